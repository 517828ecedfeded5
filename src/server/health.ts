/**
 * /healthz, /livez and /readyz as upstream's healthz package serves them: named checks, each also
 * at /<endpoint>/<name>; `?verbose` lists them (`[+]ping ok`, `[-]etcd failed: reason withheld`)
 * and a failure always does; `?exclude=<name>` skips one. Post-start hooks are checks named
 * `poststarthook/<name>` that fail until the hook reports done.
 */
import { errors } from '../api/status.js';

export type Endpoint = 'healthz' | 'livez' | 'readyz';

/** undefined: healthy; a string: why not (logged by the caller, withheld from the response). */
export type Check = () => string | undefined;

interface NamedCheck {
  name: string;
  check: Check;
  endpoints: readonly Endpoint[];
}

const ALL: readonly Endpoint[] = ['healthz', 'livez', 'readyz'];

export interface HealthAnswer {
  status: number;
  body: string;
}

export class HealthChecks {
  private readonly checks: NamedCheck[] = [];
  private readonly pendingHooks = new Set<string>();

  constructor() {
    this.add('ping', () => undefined);
    this.add('log', () => undefined);
  }

  /** A check on the given endpoints (default: all three). */
  add(name: string, check: Check, endpoints: readonly Endpoint[] = ALL): void {
    this.checks.push({ name, check, endpoints });
  }

  /** A post-start hook: `poststarthook/<name>` fails until `done()` is called. */
  postStartHook(name: string): () => void {
    const full = `poststarthook/${name}`;
    this.pendingHooks.add(full);
    this.add(full, () => (this.pendingHooks.has(full) ? 'not finished' : undefined));
    return () => this.pendingHooks.delete(full);
  }

  names(endpoint: Endpoint): string[] {
    return this.checks.filter((c) => c.endpoints.includes(endpoint)).map((c) => c.name);
  }

  /** Answers GET /<endpoint> or /<endpoint>/<check>. */
  answer(path: string, query: URLSearchParams): HealthAnswer {
    const [endpoint, ...rest] = path.slice(1).split('/') as [Endpoint, ...string[]];
    const checks = this.checks.filter((c) => c.endpoints.includes(endpoint));
    if (rest.length > 0) {
      const name = rest.join('/');
      const one = checks.find((c) => c.name === name);
      if (!one) throw errors.pathNotFound();
      const failure = one.check();
      return failure === undefined ? { status: 200, body: 'ok' } : { status: 500, body: `internal server error: ${name} check failed` };
    }
    const excluded = new Set(query.getAll('exclude'));
    const verbose = query.has('verbose');
    const lines: string[] = [];
    let failed = false;
    for (const { name, check } of checks) {
      if (excluded.delete(name)) {
        lines.push(`[+]${name} excluded: ok`);
        continue;
      }
      const failure = check();
      if (failure === undefined) lines.push(`[+]${name} ok`);
      else {
        failed = true;
        lines.push(`[-]${name} failed: reason withheld`);
      }
    }
    for (const name of excluded) lines.push(`warn: some health checks cannot be excluded: no matches for "${name}"`);
    if (!failed && !verbose) return { status: 200, body: 'ok' };
    lines.push(failed ? `${endpoint} check failed` : `${endpoint} check passed`);
    return { status: failed ? 500 : 200, body: lines.join('\n') + '\n' };
  }

  /** The failing checks and their reasons, for a log line. */
  failures(endpoint: Endpoint): Array<{ name: string; reason: string }> {
    const out: Array<{ name: string; reason: string }> = [];
    for (const { name, check, endpoints } of this.checks) {
      if (!endpoints.includes(endpoint)) continue;
      const reason = check();
      if (reason !== undefined) out.push({ name, reason });
    }
    return out;
  }
}
