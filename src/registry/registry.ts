/**
 * The served kinds, looked up the ways requests need them. Built-in kinds are fixed at start;
 * custom resources come and go at run time (`install` / `uninstall`), and whoever derives
 * something from the served set (discovery, OpenAPI) subscribes with `onChange`.
 */
import type { Store } from '../storage/store.js';
import { GenericStore, type GenericStoreHooks } from './generic-store.js';
import { apiVersionOf, type KindStrategy } from './strategy.js';

export class Registry {
  private readonly byPath = new Map<string, GenericStore>();
  private readonly byKind = new Map<string, GenericStore>();
  private readonly byGroupResource = new Map<string, GenericStore>();
  private readonly builtIn: readonly KindStrategy[];
  /** Installed dynamically, by owner (a CRD's name). */
  private readonly dynamic = new Map<string, readonly KindStrategy[]>();
  private current: readonly KindStrategy[];
  private readonly listeners = new Set<() => void>();

  constructor(
    kinds: readonly KindStrategy[],
    private readonly store: Store,
    private readonly hooks: GenericStoreHooks = {},
  ) {
    this.builtIn = kinds;
    this.current = kinds;
    for (const kind of kinds) this.add(kind);
  }

  /** Every served kind: built-ins first, then custom resources in install order. */
  get kinds(): readonly KindStrategy[] {
    return this.current;
  }

  get builtInKinds(): readonly KindStrategy[] {
    return this.builtIn;
  }

  /** Serves `kinds` (all versions of one custom resource) under `owner`, replacing what it served before. */
  install(owner: string, kinds: readonly KindStrategy[]): void {
    this.removeOwned(owner);
    for (const kind of kinds) this.add(kind);
    this.dynamic.set(owner, kinds);
    this.changed();
  }

  uninstall(owner: string): void {
    if (!this.dynamic.has(owner)) return;
    this.removeOwned(owner);
    this.dynamic.delete(owner);
    this.changed();
  }

  /** Called after every install or uninstall. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** By URL parts: group ("" for core), version, plural. */
  resource(group: string, version: string, plural: string): GenericStore | undefined {
    return this.byPath.get(`${group}/${version}/${plural}`);
  }

  /** By apiVersion and kind, as objects name themselves. */
  kind(apiVersion: string, kind: string): GenericStore | undefined {
    return this.byKind.get(`${apiVersion}/${kind}`);
  }

  /** Shorthand for in-process components: `registry.of('', 'namespaces')`. */
  of(group: string, plural: string): GenericStore {
    const generic = this.byGroupResource.get(`${group}/${plural}`);
    if (!generic) throw new Error(`no kind serves ${group || 'core'}/${plural}`);
    return generic;
  }

  private add(kind: KindStrategy): void {
    const generic = new GenericStore(kind, this.store, this.hooks);
    this.byPath.set(`${kind.group}/${kind.version}/${kind.plural}`, generic);
    this.byKind.set(`${apiVersionOf(kind)}/${kind.kind}`, generic);
    // The storage version answers for the group-resource (in-process callers name no version).
    const groupResource = `${kind.group}/${kind.plural}`;
    if (!this.byGroupResource.has(groupResource) || !kind.storageVersion || kind.storageVersion === kind.version) this.byGroupResource.set(groupResource, generic);
  }

  private removeOwned(owner: string): void {
    for (const kind of this.dynamic.get(owner) ?? []) {
      this.byPath.delete(`${kind.group}/${kind.version}/${kind.plural}`);
      this.byKind.delete(`${apiVersionOf(kind)}/${kind.kind}`);
      this.byGroupResource.delete(`${kind.group}/${kind.plural}`);
    }
  }

  private changed(): void {
    this.current = [...this.builtIn, ...[...this.dynamic.values()].flat()];
    for (const listener of this.listeners) {
      try {
        listener();
      } catch {
        // A listener's failure must not undo the change for the others.
      }
    }
  }
}
