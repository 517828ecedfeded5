/** The admission plugins the server runs, in upstream's order (mutating phase first, then validating). */
import type { AdmissionPlugin } from './admission.js';
import type { Registry } from '../registry/registry.js';
import { namespaceLifecycle } from './plugins/namespace-lifecycle.js';
import { mutatingAdmissionWebhook } from './plugins/mutating-admission-webhook.js';
import { validatingAdmissionPolicy } from './plugins/validating-admission-policy.js';
import { validatingAdmissionWebhook } from './plugins/validating-admission-webhook.js';
import { podSecurity } from './plugins/pod-security.js';
import { resourceQuota } from './plugins/resource-quota.js';

export interface AdmissionPluginContext {
  /** The registry the plugins read configuration from (built after the chain, so given lazily). */
  registry: () => Registry;
}

export function defaultAdmissionPlugins(context?: AdmissionPluginContext): AdmissionPlugin[] {
  const plugins: AdmissionPlugin[] = [];
  if (context) {
    // Upstream's order: NamespaceLifecycle, …, PodSecurity, …, MutatingAdmissionWebhook, ValidatingAdmissionPolicy, ValidatingAdmissionWebhook, ResourceQuota.
    plugins.push(namespaceLifecycle(context.registry));
    plugins.push(podSecurity(context.registry));
    plugins.push(mutatingAdmissionWebhook(context.registry), validatingAdmissionPolicy(context.registry), validatingAdmissionWebhook(context.registry));
    plugins.push(resourceQuota(context.registry));
  }
  return plugins;
}
