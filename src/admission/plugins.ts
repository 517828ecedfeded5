/** The admission plugins the server runs, in upstream's order (mutating phase first, then validating). */
import type { AdmissionPlugin } from './admission.js';
import type { Registry } from '../registry/registry.js';
import { namespaceLifecycle } from './plugins/namespace-lifecycle.js';
import { mutatingAdmissionWebhook } from './plugins/mutating-admission-webhook.js';
import { validatingAdmissionPolicy } from './plugins/validating-admission-policy.js';
import { validatingAdmissionWebhook } from './plugins/validating-admission-webhook.js';
import { podSecurity } from './plugins/pod-security.js';
import { limitRanger } from './plugins/limit-ranger.js';
import { serviceAccount } from './plugins/service-account.js';
import { nodeRestriction } from './plugins/node-restriction.js';
import { priority } from './plugins/priority.js';
import { defaultTolerationSeconds } from './plugins/default-toleration-seconds.js';
import { defaultStorageClass } from './plugins/default-storage-class.js';
import { storageObjectInUseProtection } from './plugins/storage-object-in-use-protection.js';
import { resourceQuota } from './plugins/resource-quota.js';
import { certificateApproval, certificateSigning, certificateSubjectRestriction } from './plugins/certificates.js';
import type { Authorizer } from '../auth/authorization.js';

export interface AdmissionPluginContext {
  /** The registry the plugins read configuration from (built after the chain, so given lazily). */
  registry: () => Registry;
  /** The server's authorizer, for plugins that ask it (the certificate plugins); bound after the chain. */
  authorizer?: () => Authorizer | undefined;
}

export function defaultAdmissionPlugins(context?: AdmissionPluginContext): AdmissionPlugin[] {
  const plugins: AdmissionPlugin[] = [];
  if (context) {
    // Upstream's order (kube-apiserver's AllOrderedPlugins, those we have).
    plugins.push(namespaceLifecycle(context.registry));
    plugins.push(limitRanger(context.registry), serviceAccount(context.registry), nodeRestriction());
    plugins.push(podSecurity(context.registry), priority(context.registry), defaultTolerationSeconds());
    plugins.push(defaultStorageClass(context.registry), storageObjectInUseProtection());
    const authorizer = context.authorizer ?? (() => undefined);
    plugins.push(certificateApproval(authorizer), certificateSigning(authorizer), certificateSubjectRestriction());
    plugins.push(mutatingAdmissionWebhook(context.registry), validatingAdmissionPolicy(context.registry), validatingAdmissionWebhook(context.registry));
    plugins.push(resourceQuota(context.registry));
  }
  return plugins;
}
