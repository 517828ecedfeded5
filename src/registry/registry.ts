/** The served kinds, looked up the ways requests need them. */
import type { Store } from '../storage/store.js';
import { GenericStore, type GenericStoreHooks } from './generic-store.js';
import { apiVersionOf, type KindStrategy } from './strategy.js';

export class Registry {
  private readonly byPath = new Map<string, GenericStore>();
  private readonly byKind = new Map<string, GenericStore>();
  readonly kinds: readonly KindStrategy[];

  constructor(kinds: readonly KindStrategy[], store: Store, hooks: GenericStoreHooks = {}) {
    this.kinds = kinds;
    for (const kind of kinds) {
      const generic = new GenericStore(kind, store, hooks);
      this.byPath.set(`${kind.group}/${kind.version}/${kind.plural}`, generic);
      this.byKind.set(`${apiVersionOf(kind)}/${kind.kind}`, generic);
    }
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
    for (const generic of this.byPath.values()) {
      if (generic.strategy.group === group && generic.strategy.plural === plural) return generic;
    }
    throw new Error(`no kind serves ${group || 'core'}/${plural}`);
  }
}
