/**
 * One shared informer per resource (and selector), for every component of the process: the
 * scheduler, the controllers and the node agents all read the same cache, fed by one list and
 * one watch (client-go's SharedInformerFactory).
 */
import { SharedInformer, type InformerOptions } from './informer.js';
import type { ResourceType } from './resource-types.js';
import type { ApiClient } from './api-client.js';

export class InformerFactory {
  private readonly informers = new Map<string, SharedInformer>();
  private started = false;

  constructor(private readonly client: ApiClient) {}

  /** The informer for `type` (created on first use; started at once if the factory runs). */
  informer(type: ResourceType, options: InformerOptions = {}): SharedInformer {
    const key = [type.group, type.version, type.resource, options.namespace ?? '', options.labelSelector ?? '', options.fieldSelector ?? ''].join('|');
    let informer = this.informers.get(key);
    if (!informer) {
      informer = new SharedInformer(this.client, type, options);
      this.informers.set(key, informer);
      if (this.started) void informer.start();
    }
    return informer;
  }

  /** Starts every informer asked for so far, and any asked for later. */
  start(): void {
    this.started = true;
    for (const informer of this.informers.values()) void informer.start();
  }

  /** Resolves once every informer asked for so far has its first list in its cache. */
  async waitForSync(): Promise<void> {
    await Promise.all([...this.informers.values()].map((informer) => informer.start()));
  }

  stop(): void {
    for (const informer of this.informers.values()) informer.stop();
  }
}
