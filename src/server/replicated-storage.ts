/**
 * `serve --storage etcd`: the store on the replicated log in etcd, its replica (follower or
 * leader), and the replication metrics every replica exposes on /metrics.
 */
import { Gauge, type Registry as MetricsRegistry } from 'prom-client';
import type { Etcd3 } from 'etcd3';
import { Store } from '../storage/store.js';
import { connectEtcd, type EtcdConnectOptions } from '../storage/etcd/connect.js';
import { EtcdReplica } from '../storage/etcd/replica.js';
import { log } from './log.js';
import type { ValueTransformer } from '../storage/encryption/transformer.js';

export interface EtcdSettings extends EtcdConnectOptions {
  /** Key prefix of this cluster in etcd (default "/nautilus/"). */
  prefix?: string;
  /** Leader lease TTL in seconds (default 2). */
  leaseTtlSeconds?: number;
  /** Writes between the snapshots that bound etcd's history (default 50,000). */
  snapshotEveryMutations?: number;
}

export interface ReplicatedStorage {
  store: Store;
  replica: EtcdReplica;
  close(): Promise<void>;
}

export async function openReplicatedStorage(settings: EtcdSettings, dataKey: Buffer, onFatal: (error: Error) => void, valueTransformer?: ValueTransformer): Promise<ReplicatedStorage> {
  const client: Etcd3 = connectEtcd(settings);
  const replica = new EtcdReplica({ client, prefix: settings.prefix ?? '/nautilus/', dataKey, leaseTtlSeconds: settings.leaseTtlSeconds, onFatal });
  const store = new Store({ durableLog: replica.log, onDurabilityLost: onFatal, valueTransformer });
  replica.attach(store);
  const started = Date.now();
  try {
    const state = await replica.log.recover();
    store.restore(state);
    log.info('state loaded from etcd', { snapshotRevision: state.snapshotRevision, entries: state.entries.length, mutations: state.mutations.length, revision: store.revision, ms: Date.now() - started });
  } catch (error) {
    client.close();
    throw error;
  }
  return {
    store,
    replica,
    async close() {
      await replica.stop();
      client.close();
    },
  };
}

/** nautilus_storage_is_leader and the follower's lag, on every replica. */
export function registerReplicationMetrics(registry: MetricsRegistry, replica: EtcdReplica | undefined): void {
  new Gauge({
    name: 'nautilus_storage_is_leader',
    help: 'Whether this replica is the storage leader (1) or a follower (0); a single replica on local storage always leads.',
    registers: [registry],
    collect() {
      this.set(!replica || replica.leading ? 1 : 0);
    },
  });
  if (!replica) return;
  new Gauge({
    name: 'nautilus_storage_follower_lag_revisions',
    help: "Revisions this replica's copy is behind the replicated log's head (0 on the leader; -1 when etcd cannot be read).",
    registers: [registry],
    async collect() {
      this.set(await replica.lagRevisions().catch(() => -1));
    },
  });
  new Gauge({
    name: 'nautilus_storage_leader_elections_total',
    help: 'Times this replica became the storage leader since it started.',
    registers: [registry],
    collect() {
      this.set(replica.counters.elections);
    },
  });
}
