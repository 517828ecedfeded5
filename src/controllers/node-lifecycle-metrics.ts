/**
 * The node lifecycle controller's metrics, with upstream's names (subsystem `node_collector`):
 * per zone the node count, the share of them Ready (percent), the count not Ready, and the NoExecute
 * taintings (upstream counts those as evictions) since this controller started. The zone label is
 * the zone key (region and zone), as upstream's.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export interface ZoneSize {
  ready: number;
  notReady: number;
}

export class NodeCollectorMetrics {
  private static readonly byRegistry = new WeakMap<Registry, NodeCollectorMetrics>();
  private readonly size: Gauge<'zone'>;
  private readonly health: Gauge<'zone'>;
  private readonly unhealthy: Gauge<'zone'>;
  private readonly evictions: Counter<'zone'>;
  private readonly zones = new Set<string>();

  /** One set of families per registry (the controller restarts on leadership changes). */
  static in(registry: Registry): NodeCollectorMetrics {
    let metrics = NodeCollectorMetrics.byRegistry.get(registry);
    if (!metrics) NodeCollectorMetrics.byRegistry.set(registry, (metrics = new NodeCollectorMetrics(registry)));
    return metrics;
  }

  private constructor(registry: Registry) {
    const registers = [registry];
    this.size = new Gauge({ name: 'node_collector_zone_size', help: 'Gauge measuring number of registered Nodes per zones.', labelNames: ['zone'], registers });
    this.health = new Gauge({ name: 'node_collector_zone_health', help: 'Gauge measuring percentage of healthy nodes per zone.', labelNames: ['zone'], registers });
    this.unhealthy = new Gauge({ name: 'node_collector_unhealthy_nodes_in_zone', help: 'Gauge measuring number of not Ready Nodes per zones.', labelNames: ['zone'], registers });
    this.evictions = new Counter({ name: 'node_collector_evictions_total', help: 'Number of Node evictions that happened since current instance of NodeController started.', labelNames: ['zone'], registers });
  }

  /** The zones as the controller just counted them; zones no longer counted are dropped. */
  setZones(sizes: ReadonlyMap<string, ZoneSize>): void {
    for (const zone of this.zones) {
      if (sizes.has(zone)) continue;
      this.size.remove({ zone });
      this.health.remove({ zone });
      this.unhealthy.remove({ zone });
      this.zones.delete(zone);
    }
    for (const [zone, { ready, notReady }] of sizes) {
      this.zones.add(zone);
      this.size.set({ zone }, ready + notReady);
      this.health.set({ zone }, (100 * ready) / Math.max(1, ready + notReady));
      this.unhealthy.set({ zone }, notReady);
    }
  }

  evicted(zone: string): void {
    this.evictions.inc({ zone });
  }
}
