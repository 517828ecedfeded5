/**
 * Whether a pod's required node placement admits a node: its nodeSelector and its required
 * node affinity terms (matchExpressions on labels, matchFields on metadata.name), as
 * k8s.io/component-helpers nodeaffinity.GetRequiredNodeAffinity(pod).Match(node).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Fields = Record<string, any>;

export interface NodeSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Gt' | 'Lt' | string;
  values?: string[];
}

export interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[];
  matchFields?: NodeSelectorRequirement[];
}

function labelRequirementMatches(requirement: NodeSelectorRequirement, labels: Record<string, string>): boolean {
  const value = labels[requirement.key];
  const values = requirement.values ?? [];
  switch (requirement.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      if (value === undefined || values.length !== 1 || !/^-?\d+$/.test(value) || !/^-?\d+$/.test(values[0])) return false;
      return requirement.operator === 'Gt' ? Number(value) > Number(values[0]) : Number(value) < Number(values[0]);
    }
    default:
      return false;
  }
}

/** Only metadata.name is a node field a selector may name, with In or NotIn. */
function fieldRequirementMatches(requirement: NodeSelectorRequirement, node: Fields): boolean {
  if (requirement.key !== 'metadata.name') return false;
  const name = node.metadata?.name ?? '';
  const values = requirement.values ?? [];
  if (requirement.operator === 'In') return values.length === 1 && values[0] === name;
  if (requirement.operator === 'NotIn') return values.length === 1 && values[0] !== name;
  return false;
}

/** A term matches when all its requirements do; a term with none matches nothing. */
export function nodeSelectorTermMatches(term: NodeSelectorTerm, node: Fields): boolean {
  const expressions = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (expressions.length === 0 && fields.length === 0) return false;
  const labels: Record<string, string> = node.metadata?.labels ?? {};
  return expressions.every((r) => labelRequirementMatches(r, labels)) && fields.every((r) => fieldRequirementMatches(r, node));
}

/** Terms are ORed. */
export function nodeSelectorMatches(terms: readonly NodeSelectorTerm[], node: Fields): boolean {
  return terms.some((term) => nodeSelectorTermMatches(term, node));
}

/** The pod spec's nodeSelector and required node affinity both admit `node`. */
export function requiredNodeAffinityMatches(podSpec: Fields, node: Fields): boolean {
  const labels: Record<string, string> = node.metadata?.labels ?? {};
  for (const [key, value] of Object.entries((podSpec.nodeSelector ?? {}) as Record<string, string>)) if (labels[key] !== value) return false;
  const required = podSpec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (!required) return true;
  return nodeSelectorMatches(required.nodeSelectorTerms ?? [], node);
}
