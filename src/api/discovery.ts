/**
 * API discovery: the legacy documents (/api, /apis, /api/v1, /apis/<g>/<v>) and aggregated
 * discovery (apidiscovery.k8s.io v2 and v2beta1). Built once from the served kinds; served as bytes.
 */
import type { KindStrategy } from '../registry/strategy.js';

const DEFAULT_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/** Group order as upstream lists them (kubectl prints api-resources in this order). */
const GROUP_PRIORITY = [
  '',
  'apiregistration.k8s.io',
  'apps',
  'events.k8s.io',
  'authentication.k8s.io',
  'authorization.k8s.io',
  'autoscaling',
  'batch',
  'certificates.k8s.io',
  'networking.k8s.io',
  'policy',
  'rbac.authorization.k8s.io',
  'storage.k8s.io',
  'admissionregistration.k8s.io',
  'apiextensions.k8s.io',
  'scheduling.k8s.io',
  'coordination.k8s.io',
  'node.k8s.io',
  'discovery.k8s.io',
  'flowcontrol.apiserver.k8s.io',
];

/** A served subresource that is not a plain copy of the parent kind. */
export interface ExtraSubresource {
  group: string;
  version: string;
  parentPlural: string;
  name: string;
  kind: { group: string; version: string; kind: string };
  verbs: string[];
  namespaced: boolean;
}

interface GroupVersion {
  group: string;
  version: string;
  kinds: KindStrategy[];
  extras: ExtraSubresource[];
}

export interface DiscoveryDocuments {
  /** "/api", "/apis", "/api/v1", "/apis/<g>", "/apis/<g>/<v>" → JSON bytes. */
  legacy: Map<string, Buffer>;
  aggregatedCore: Record<'v2' | 'v2beta1', Buffer>;
  aggregatedGroups: Record<'v2' | 'v2beta1', Buffer>;
}

function verbsOf(kind: KindStrategy): string[] {
  return kind.verbs ?? DEFAULT_VERBS;
}

function subresourcesOf(kind: KindStrategy, extras: ExtraSubresource[]) {
  const subresources: Array<{ name: string; kind: { group: string; version: string; kind: string }; verbs: string[] }> = [];
  const self = { group: kind.group, version: kind.version, kind: kind.kind };
  if (kind.statusSubresource) subresources.push({ name: 'status', kind: self, verbs: ['get', 'patch', 'update'] });
  if (kind.scale) subresources.push({ name: 'scale', kind: { group: 'autoscaling', version: 'v1', kind: 'Scale' }, verbs: ['get', 'patch', 'update'] });
  for (const extra of extras) if (extra.parentPlural === kind.plural) subresources.push({ name: extra.name, kind: extra.kind, verbs: extra.verbs });
  return subresources;
}

function groupVersions(kinds: readonly KindStrategy[], extras: readonly ExtraSubresource[]): GroupVersion[] {
  const byKey = new Map<string, GroupVersion>();
  for (const kind of kinds) {
    const key = `${kind.group}/${kind.version}`;
    let gv = byKey.get(key);
    if (!gv) {
      gv = { group: kind.group, version: kind.version, kinds: [], extras: [] };
      byKey.set(key, gv);
    }
    gv.kinds.push(kind);
  }
  for (const extra of extras) byKey.get(`${extra.group}/${extra.version}`)?.extras.push(extra);
  const rank = (group: string) => {
    const index = GROUP_PRIORITY.indexOf(group);
    return index < 0 ? GROUP_PRIORITY.length : index;
  };
  return [...byKey.values()].sort((a, b) => rank(a.group) - rank(b.group) || (a.group < b.group ? -1 : a.group > b.group ? 1 : 0) || compareVersions(a.version, b.version));
}

/**
 * Kubernetes' version priority (the first is preferred): GA before beta before alpha, higher
 * numbers first, then anything else alphabetically.
 */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const match = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!match) return { rank: 3, major: 0, minor: 0 };
    return { rank: match[2] === undefined ? 0 : match[2] === 'beta' ? 1 : 2, major: Number(match[1]), minor: Number(match[3] ?? 0) };
  };
  const x = parse(a);
  const y = parse(b);
  if (x.rank === 3 && y.rank === 3) return a < b ? -1 : a > b ? 1 : 0;
  return x.rank - y.rank || y.major - x.major || y.minor - x.minor;
}

function legacyResourceList(gv: GroupVersion) {
  const groupVersion = gv.group ? `${gv.group}/${gv.version}` : gv.version;
  const resources: Record<string, unknown>[] = [];
  for (const kind of gv.kinds) {
    const entry: Record<string, unknown> = { name: kind.plural, singularName: kind.singular, namespaced: kind.namespaced, kind: kind.kind, verbs: verbsOf(kind) };
    if (kind.shortNames?.length) entry.shortNames = kind.shortNames;
    if (kind.categories?.length) entry.categories = kind.categories;
    resources.push(entry);
    for (const sub of subresourcesOf(kind, gv.extras)) {
      const subEntry: Record<string, unknown> = { name: `${kind.plural}/${sub.name}`, singularName: '', namespaced: kind.namespaced, kind: sub.kind.kind, verbs: sub.verbs };
      if (sub.kind.group !== kind.group || sub.kind.version !== kind.version) {
        subEntry.group = sub.kind.group;
        subEntry.version = sub.kind.version;
      }
      resources.push(subEntry);
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources };
}

function aggregatedGroup(name: string, versions: GroupVersion[]) {
  return {
    metadata: { name, creationTimestamp: null },
    versions: versions.map((gv) => ({
      version: gv.version,
      resources: gv.kinds.map((kind) => {
        const resource: Record<string, unknown> = {
          resource: kind.plural,
          responseKind: { group: kind.group, version: kind.version, kind: kind.kind },
          scope: kind.namespaced ? 'Namespaced' : 'Cluster',
          singularResource: kind.singular,
          verbs: verbsOf(kind),
        };
        if (kind.shortNames?.length) resource.shortNames = kind.shortNames;
        if (kind.categories?.length) resource.categories = kind.categories;
        const subresources = subresourcesOf(kind, gv.extras);
        if (subresources.length) resource.subresources = subresources.map((s) => ({ subresource: s.name, responseKind: s.kind, verbs: s.verbs }));
        return resource;
      }),
      freshness: 'Current',
    })),
  };
}

function aggregatedList(apiVersion: string, groups: unknown[]): Buffer {
  return Buffer.from(JSON.stringify({ kind: 'APIGroupDiscoveryList', apiVersion, metadata: {}, items: groups }));
}

export function buildDiscovery(kinds: readonly KindStrategy[], extras: readonly ExtraSubresource[] = [], serverAddress = '0.0.0.0:6443'): DiscoveryDocuments {
  const gvs = groupVersions(kinds, extras);
  const legacy = new Map<string, Buffer>();
  const json = (value: unknown) => Buffer.from(JSON.stringify(value));
  const serverAddressByClientCIDRs = [{ clientCIDR: '0.0.0.0/0', serverAddress }];

  const core = gvs.filter((gv) => gv.group === '');
  legacy.set('/api', json({ kind: 'APIVersions', versions: core.map((gv) => gv.version), serverAddressByClientCIDRs }));
  for (const gv of core) legacy.set(`/api/${gv.version}`, json(legacyResourceList(gv)));

  const groupNames = [...new Set(gvs.filter((gv) => gv.group !== '').map((gv) => gv.group))];
  const groups = groupNames.map((name) => {
    const versions = gvs.filter((gv) => gv.group === name).map((gv) => ({ groupVersion: `${name}/${gv.version}`, version: gv.version }));
    return { name, versions, preferredVersion: versions[0] };
  });
  legacy.set('/apis', json({ kind: 'APIGroupList', apiVersion: 'v1', groups }));
  for (const group of groups) {
    legacy.set(`/apis/${group.name}`, json({ kind: 'APIGroup', apiVersion: 'v1', ...group }));
  }
  for (const gv of gvs.filter((g) => g.group !== '')) legacy.set(`/apis/${gv.group}/${gv.version}`, json(legacyResourceList(gv)));

  const coreGroup = aggregatedGroup('', core);
  const otherGroups = groupNames.map((name) => aggregatedGroup(name, gvs.filter((gv) => gv.group === name)));
  return {
    legacy,
    aggregatedCore: { v2: aggregatedList('apidiscovery.k8s.io/v2', [coreGroup]), v2beta1: aggregatedList('apidiscovery.k8s.io/v2beta1', [coreGroup]) },
    aggregatedGroups: { v2: aggregatedList('apidiscovery.k8s.io/v2', otherGroups), v2beta1: aggregatedList('apidiscovery.k8s.io/v2beta1', otherGroups) },
  };
}
