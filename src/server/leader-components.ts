/**
 * The in-process components that act on the cluster — bootstrap, controllers, scheduler, virtual
 * nodes, event retention, snapshots — run on one replica only: the leader. Each registers here
 * with `add(name, start)`; they start (in the order added) when this replica becomes the leader
 * and stop (in reverse) when it stops being one. With local storage the one replica leads from
 * start to stop, so this is just the start/stop list it always had.
 *
 * Transitions are serialized: a stop waits for a start under way, and the reverse.
 */
import { log } from './log.js';

export interface RunningComponent {
  stop(): void | Promise<void>;
}

export type ComponentStart = () => RunningComponent | Promise<RunningComponent>;

export class LeaderComponents {
  private readonly components: Array<{ name: string; start: ComponentStart }> = [];
  private running: Array<{ name: string; component: RunningComponent }> = [];
  private leading = false;
  private transitions: Promise<void> = Promise.resolve();

  /** `strict` (the single replica of local storage): a component that cannot start fails the start. */
  constructor(private readonly options: { strict?: boolean } = {}) {}

  /** Registers a component; when added while leading it starts at once (resolves once it runs). */
  add(name: string, start: ComponentStart): Promise<void> {
    this.components.push({ name, start });
    if (!this.leading) return Promise.resolve();
    return this.enqueue(async () => {
      const error = await this.startOne(name, start);
      if (error && this.options.strict) throw error;
    });
  }

  get isLeading(): boolean {
    return this.leading;
  }

  /** Starts every component (this replica became the leader); resolves when all run. */
  startAll(): Promise<void> {
    if (this.leading) return this.transitions;
    this.leading = true;
    return this.enqueue(async () => {
      for (const { name, start } of this.components) {
        if (!this.leading) return;
        // Let requests in between components: starting them all is a long stretch of work.
        await new Promise((resolve) => setImmediate(resolve));
        const error = await this.startOne(name, start);
        if (error && this.options.strict) throw error;
      }
    });
  }

  /** Stops every running component, newest first (leadership lost, or shutdown). */
  stopAll(): Promise<void> {
    this.leading = false;
    return this.enqueue(async () => {
      for (const { name, component } of this.running.splice(0).reverse()) {
        try {
          await component.stop();
        } catch (error) {
          log.error('component failed to stop', { component: name, error: (error as Error).message });
        }
      }
    });
  }

  private async startOne(name: string, start: ComponentStart): Promise<Error | undefined> {
    try {
      this.running.push({ name, component: await start() });
      return undefined;
    } catch (error) {
      // A component that cannot start (e.g. leadership lost mid-bootstrap) is retried next term.
      log.error('component failed to start', { component: name, error: (error as Error).message });
      return error as Error;
    }
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    const next = this.transitions.then(step);
    this.transitions = next.catch(() => undefined);
    return next;
  }
}
