/** Starts the scheduler as a leader-only component of the control plane. */
import type { Registry } from 'prom-client';
import type { InProcessClient } from '../client/in-process.js';
import type { InformerFactory } from '../client/informer-factory.js';
import { SCHEDULER_USER } from '../auth/system-users.js';
import type { ResolvedConfiguration } from './config.js';
import { Scheduler } from './scheduler.js';

export { Scheduler } from './scheduler.js';
export { loadSchedulerConfiguration, resolveConfiguration, ConfigurationError } from './config.js';

export interface StartSchedulerOptions {
  /** Any in-process client: the scheduler acts as system:kube-scheduler through it. */
  client: InProcessClient;
  informers: InformerFactory;
  config?: ResolvedConfiguration;
  metrics?: Registry;
  host?: string;
}

export async function startScheduler(options: StartSchedulerOptions): Promise<Scheduler> {
  const scheduler = new Scheduler({
    client: options.client.as(SCHEDULER_USER, 'default-scheduler'),
    informers: options.informers,
    config: options.config,
    metrics: options.metrics,
    host: options.host,
  });
  await scheduler.start();
  return scheduler;
}
