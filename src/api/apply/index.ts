/** Server-side apply and managedFields: the surface the REST layer uses. */

export { applyConfiguration, fieldManagerName, recordUpdate, recordUpdateJson, withManagedFields } from './field-manager.js';
export type { ApplyParams, ApplyResult, UpdateParams, WriteScope } from './field-manager.js';
export { applyConflictError, applyConflictMessage, describeManager } from './conflicts.js';
export type { ApplyConflict } from './conflicts.js';
export { FieldSet, FieldsV1Error } from './field-set.js';
export { fieldSetFromObject } from './object-fields.js';
export { LAST_APPLIED_ANNOTATION } from './last-applied.js';
export type { ManagedFieldsEntry, ManagerIdentity } from './managed-fields.js';
export type { ApplySchema } from './schema.js';
