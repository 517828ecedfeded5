/**
 * Apply conflicts as upstream reports them: one line per conflict in the message, one
 * FieldManagerConflict cause per conflict in a 409 Conflict Status.
 */

import { ApiError } from '../status.js';
import type { FieldSet } from './field-set.js';
import { identityOf, type ManagerIdentity } from './managed-fields.js';
import { describePath } from './path-element.js';
import type { OwnershipConflicts } from './updater.js';

export interface ApplyConflict {
  /** The other manager, as identified in managedFields. */
  readonly manager: ManagerIdentity;
  /** The contested field, in upstream's path form, e.g. `.spec.replicas`. */
  readonly field: string;
}

/** Conflicts ordered by manager identifier, then by field in upstream's set order. */
export function listConflicts(conflicts: OwnershipConflicts): ApplyConflict[] {
  const out: ApplyConflict[] = [];
  for (const id of [...conflicts.keys()].sort()) {
    const manager = identityOf(id);
    for (const path of (conflicts.get(id) as FieldSet).paths()) {
      out.push({ manager, field: describePath(path) });
    }
  }
  return out;
}

/** `"kubectl"`, `"kube-controller-manager" with subresource "status" using apps/v1`, … */
export function describeManager(identity: ManagerIdentity): string {
  let text = JSON.stringify(identity.manager ?? '');
  if (identity.subresource) text += ` with subresource ${JSON.stringify(identity.subresource)}`;
  if (identity.operation === 'Update') text += ` using ${identity.apiVersion ?? ''}`;
  return text;
}

export function applyConflictMessage(conflicts: readonly ApplyConflict[]): string {
  if (conflicts.length === 1) {
    const [only] = conflicts as [ApplyConflict];
    return `Apply failed with 1 conflict: conflict with ${describeManager(only.manager)}: ${only.field}`;
  }
  const byManager = new Map<string, ApplyConflict[]>();
  for (const conflict of conflicts) {
    const key = describeManager(conflict.manager);
    byManager.set(key, [...(byManager.get(key) ?? []), conflict]);
  }
  const lines: string[] = [];
  for (const [manager, ofManager] of byManager) {
    lines.push(`conflicts with ${manager}:`);
    for (const conflict of ofManager) lines.push(`- ${conflict.field}`);
  }
  return `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
}

/** The 409 upstream answers a conflicting apply with (reason Conflict, FieldManagerConflict causes). */
export function applyConflictError(conflicts: readonly ApplyConflict[]): ApiError {
  return new ApiError(409, 'Conflict', applyConflictMessage(conflicts), {
    causes: conflicts.map((conflict) => ({
      reason: 'FieldManagerConflict',
      message: `conflict with ${describeManager(conflict.manager)}`,
      field: conflict.field,
    })),
  });
}
