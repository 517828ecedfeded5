/**
 * Taints and tolerations as the API defines them (k8s.io/api/core/v1 toleration.go), for the
 * components that decide where pods may run: the DaemonSet controller and the scheduler.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Fields = Record<string, any>;

export interface Taint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' | string;
}

export interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal' | string;
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

/** Whether `toleration` tolerates `taint`: an empty key with Exists tolerates every taint. */
export function toleratesTaint(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.key && toleration.key !== taint.key) return false;
  switch (toleration.operator ?? 'Equal') {
    case 'Exists':
      return true;
    case 'Equal':
    case '':
      return (toleration.value ?? '') === (taint.value ?? '');
    default:
      return false;
  }
}

/** The first of `taints` (that `filter` keeps) no toleration tolerates. */
export function findUntoleratedTaint(taints: readonly Taint[], tolerations: readonly Toleration[], filter: (taint: Taint) => boolean = () => true): Taint | undefined {
  return taints.find((taint) => filter(taint) && !tolerations.some((t) => toleratesTaint(t, taint)));
}

export function nodeTaints(node: Fields): Taint[] {
  return Array.isArray(node.spec?.taints) ? node.spec.taints : [];
}

/** Two tolerations for the same thing (upstream MatchToleration: key, operator, value and effect). */
export function sameToleration(a: Toleration, b: Toleration): boolean {
  return (a.key ?? '') === (b.key ?? '') && (a.operator ?? 'Equal') === (b.operator ?? 'Equal') && (a.value ?? '') === (b.value ?? '') && (a.effect ?? '') === (b.effect ?? '');
}
