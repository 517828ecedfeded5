/**
 * DefaultTolerationSeconds (upstream's plugin/pkg/admission/defaulttolerationseconds): a new pod
 * tolerates the node not-ready and unreachable NoExecute taints for 300 seconds, unless it already
 * tolerates them, so the taint manager evicts it only after five minutes of node trouble.
 */
import type { Fields } from '../../registry/common/fields.js';
import type { AdmissionPlugin } from '../admission.js';

export const DEFAULT_TOLERATION_SECONDS = 300;
const TAINTS = ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable'];

function tolerates(toleration: Fields, key: string): boolean {
  if (!toleration || typeof toleration !== 'object') return false;
  const keyMatches = toleration.key === key || ((toleration.key === undefined || toleration.key === '') && toleration.operator === 'Exists');
  return keyMatches && (toleration.effect === undefined || toleration.effect === '' || toleration.effect === 'NoExecute');
}

/** Adds the two default NoExecute tolerations a pod spec lacks. */
export function addDefaultTolerations(spec: Fields): void {
  spec.tolerations ??= [];
  if (!Array.isArray(spec.tolerations)) return;
  for (const key of TAINTS) {
    if (!spec.tolerations.some((t: Fields) => tolerates(t, key))) spec.tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: DEFAULT_TOLERATION_SECONDS });
  }
}

export function defaultTolerationSeconds(): AdmissionPlugin {
  return {
    name: 'DefaultTolerationSeconds',
    admit(attributes) {
      if (attributes.operation !== 'CREATE' || attributes.subresource || attributes.resource.group !== '' || attributes.resource.resource !== 'pods') return;
      const spec = attributes.object?.spec;
      if (!spec || typeof spec !== 'object') return;
      addDefaultTolerations(spec);
    },
  };
}
