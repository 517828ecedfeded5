/**
 * The admission chain (upstream's admission.Interface): after a request is decoded and before it
 * is stored, mutating plugins may change the object, then validating plugins may refuse it. Both
 * run inside the generic store, so the REST API and in-process clients pass the same gates.
 *
 * Order, as upstream: mutating plugins in chain order, then the strategy's own validation, then
 * validating plugins in chain order. A plugin refuses by throwing an ApiError (usually 403
 * Forbidden or 422 Invalid, worded as upstream's plugin words it).
 */
import type { UserInfo } from '../auth/authenticate.js';
import type { Obj } from '../registry/strategy.js';
import { errors, type ApiError } from '../api/status.js';

export type AdmissionOperation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface AdmissionAttributes {
  operation: AdmissionOperation;
  /** The resource addressed, e.g. { group: 'apps', version: 'v1', resource: 'deployments' }. */
  resource: { group: string; version: string; resource: string };
  subresource?: string;
  kind: { group: string; version: string; kind: string };
  namespace?: string;
  name?: string;
  /** The object to be stored (CREATE, UPDATE); mutating plugins change it in place. */
  object?: Obj;
  /** The stored object (UPDATE, DELETE). */
  oldObject?: Obj;
  /** Who asks; undefined only for the server's own writes made before authentication exists. */
  user?: UserInfo;
  dryRun: boolean;
  /** Warnings for the client (admission webhooks, ValidatingAdmissionPolicy Warn): plugins append. */
  warnings?: string[];
  /** Audit annotations plugins record ("<plugin or policy>/<key>" → value), for the audit log. */
  auditAnnotations?: Record<string, string>;
}

export interface AdmissionPlugin {
  /** Upstream's plugin name, e.g. "NamespaceLifecycle". */
  readonly name: string;
  /** Mutating phase: may change `attributes.object`. */
  admit?(attributes: AdmissionAttributes): void | Promise<void>;
  /** Validating phase: may only refuse. */
  validate?(attributes: AdmissionAttributes): void | Promise<void>;
}

export class AdmissionChain {
  private readonly mutating: AdmissionPlugin[];
  private readonly validating: AdmissionPlugin[];

  constructor(readonly plugins: readonly AdmissionPlugin[]) {
    this.mutating = plugins.filter((plugin) => plugin.admit);
    this.validating = plugins.filter((plugin) => plugin.validate);
  }

  async admit(attributes: AdmissionAttributes): Promise<void> {
    for (const plugin of this.mutating) await plugin.admit!(attributes);
  }

  async validate(attributes: AdmissionAttributes): Promise<void> {
    for (const plugin of this.validating) await plugin.validate!(attributes);
  }
}

/** A refusal worded as upstream's admission.NewForbidden: `pods "web" is forbidden: <why>`. */
export function admissionForbidden(attributes: AdmissionAttributes, why: string): ApiError {
  const { group, resource } = attributes.resource;
  const name = attributes.name ?? '';
  return errors.forbidden(`${group ? `${resource}.${group}` : resource} ${JSON.stringify(name)} is forbidden: ${why}`, { name, kind: resource, ...(group ? { group } : {}) });
}
