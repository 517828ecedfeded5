/**
 * The in-process components that act on the cluster — bootstrap, controllers, scheduler, virtual
 * nodes, event retention, snapshots — run on one replica only: the leader. Each registers here
 * with `add(name, start)`; they start (in the order added) when this replica becomes the leader
 * and stop (in reverse) when it stops being one. With local storage the one replica leads from
 * start to stop, so this is just the start/stop list it always had. `addTogether` registers
 * components that start at once, side by side (the controller manager, the virtual nodes and
 * the scheduler: their handlers register in the same turn, so each shared informer gives its
 * cache once to all of them rather than to each in turn).
 *
 * Transitions are serialized: a stop waits for a start under way, and the reverse.
 */
import { log } from './log.js';

export interface RunningComponent {
  stop(): void | Promise<void>;
}

export type ComponentStart = () => RunningComponent | Promise<RunningComponent>;

export interface NamedStart {
  name: string;
  start: ComponentStart;
}

export class LeaderComponents {
  /** Components started side by side, as one step of the start order. */
  private readonly steps: Array<readonly NamedStart[]> = [];
  private running: Array<{ name: string; component: RunningComponent }> = [];
  private leading = false;
  private transitions: Promise<void> = Promise.resolve();

  /** `strict` (the single replica of local storage): a component that cannot start fails the start. */
  constructor(private readonly options: { strict?: boolean } = {}) {}

  /** Registers a component; when added while leading it starts at once (resolves once it runs). */
  add(name: string, start: ComponentStart): Promise<void> {
    return this.addTogether([{ name, start }]);
  }

  /** Registers components that start side by side (and stop in reverse of the order given). */
  addTogether(components: readonly NamedStart[]): Promise<void> {
    this.steps.push(components);
    if (!this.leading) return Promise.resolve();
    return this.enqueue(() => this.startStep(components));
  }

  get isLeading(): boolean {
    return this.leading;
  }

  /** Starts every component (this replica became the leader); resolves when all run. */
  startAll(): Promise<void> {
    if (this.leading) return this.transitions;
    this.leading = true;
    return this.enqueue(async () => {
      for (const step of this.steps) {
        if (!this.leading) return;
        // Let requests in between components: starting them all is a long stretch of work.
        await new Promise((resolve) => setImmediate(resolve));
        await this.startStep(step);
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

  /** Starts a step's components side by side; they run in the order given. */
  private async startStep(step: readonly NamedStart[]): Promise<void> {
    const outcomes = await Promise.allSettled(step.map(async ({ start }) => start()));
    let failure: Error | undefined;
    outcomes.forEach((outcome, i) => {
      const { name } = step[i];
      if (outcome.status === 'fulfilled') this.running.push({ name, component: outcome.value });
      else {
        // A component that cannot start (e.g. leadership lost mid-bootstrap) is retried next term.
        log.error('component failed to start', { component: name, error: (outcome.reason as Error).message });
        failure ??= outcome.reason as Error;
      }
    });
    if (failure && this.options.strict) throw failure;
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    const next = this.transitions.then(step);
    this.transitions = next.catch(() => undefined);
    return next;
  }
}
