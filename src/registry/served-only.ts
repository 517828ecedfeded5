/**
 * Core kinds that are served but not stored: Binding (create-only, binds the pod it names, as
 * pods/binding does) and ComponentStatus (read-only health of the control plane's components,
 * which here run in this process). The REST handler answers them in src/server/served-only.ts.
 */
import type { KindStrategy } from './strategy.js';

export const bindings: KindStrategy = {
  group: '',
  version: 'v1',
  kind: 'Binding',
  plural: 'bindings',
  singular: 'binding',
  namespaced: true,
  verbs: ['create'],
  columns: [],
};

export const componentStatuses: KindStrategy = {
  group: '',
  version: 'v1',
  kind: 'ComponentStatus',
  plural: 'componentstatuses',
  singular: 'componentstatus',
  shortNames: ['cs'],
  namespaced: false,
  verbs: ['get', 'list'],
  columns: [
    { name: 'Status', type: 'string', cell: (o) => ((o.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Healthy' && c.status === 'True') ? 'Healthy' : 'Unhealthy') },
    { name: 'Message', type: 'string', cell: (o) => (o.conditions ?? [])[0]?.message ?? '' },
    { name: 'Error', type: 'string', cell: (o) => (o.conditions ?? [])[0]?.error ?? '' },
  ],
};
