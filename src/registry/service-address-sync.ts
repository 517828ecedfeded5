/**
 * Keeps the cluster IP and node port allocators equal to what stored Services hold: rebuilt from
 * the store at start (after log replay), then released as deletes and updates commit.
 */
import type { Registry } from './registry.js';
import type { Obj } from './strategy.js';
import { releaseReplacedAddresses, releaseServiceAddresses, syncServiceAddresses } from './service-addresses.js';

export function startServiceAddressSync(registry: Registry): { stop(): void } {
  const services = registry.of('', 'services');
  syncServiceAddresses(services.list(undefined, {}).items.map((item) => item.object as Obj));
  const watcher = services.watch(undefined, { fromRevision: services.visibleRevision }, (event) => {
    if (event.type === 'DELETED') releaseServiceAddresses(event.current.object as Obj);
    else if (event.type === 'MODIFIED' && event.previous) releaseReplacedAddresses(event.current.object as Obj, event.previous.object as Obj);
  });
  return { stop: () => watcher.close() };
}
