/**
 * MutatingAdmissionWebhook: matching webhooks of the MutatingWebhookConfigurations are called
 * one after another; each may refuse or answer a JSONPatch applied to the object. Webhooks with
 * reinvocationPolicy IfNeeded are called once more if a later webhook changed the object.
 */
import { jsonEqual } from '../../api/object.js';
import { errors } from '../../api/status.js';
import { applyJsonPatch } from '../../api/patch/json-patch.js';
import type { Obj } from '../../registry/strategy.js';
import type { AdmissionAttributes, AdmissionPlugin } from '../admission.js';
import { admissionAnswer, configuredWebhooks, denial, type RegistryRef, type Webhook } from '../webhook-dispatch.js';

async function admitOnce(webhook: Webhook, attributes: AdmissionAttributes, registryRef: RegistryRef): Promise<boolean> {
  const answer = await admissionAnswer(webhook, attributes, registryRef());
  if (!answer) return false;
  if (!answer.allowed) throw denial(webhook, answer);
  if (!answer.patch || !attributes.object) return false;
  if (answer.patchType !== 'JSONPatch') throw errors.internal(`received invalid webhook response: expected patchType "JSONPatch", got "${answer.patchType ?? ''}"`);
  let patched: Obj;
  try {
    patched = applyJsonPatch(attributes.object, JSON.parse(Buffer.from(answer.patch, 'base64').toString('utf8'))) as Obj;
  } catch (error) {
    throw errors.internal(`admission webhook "${webhook.name}" attempted to modify the object, which is not supported for this operation: ${(error as Error).message}`);
  }
  if (jsonEqual(patched, attributes.object)) return false;
  // Mutate in place: the generic store keeps the same object.
  for (const key of Object.keys(attributes.object)) delete (attributes.object as Record<string, unknown>)[key];
  Object.assign(attributes.object, patched);
  return true;
}

export function mutatingAdmissionWebhook(registry: RegistryRef): AdmissionPlugin {
  return {
    name: 'MutatingAdmissionWebhook',
    async admit(attributes) {
      if (attributes.operation === 'DELETE') return;
      const webhooks = configuredWebhooks(registry(), 'mutatingwebhookconfigurations');
      const changedAfter = new Map<Webhook, boolean>();
      for (const webhook of webhooks) {
        const changed = await admitOnce(webhook, attributes, registry);
        for (const earlier of changedAfter.keys()) if (changed) changedAfter.set(earlier, true);
        changedAfter.set(webhook, false);
      }
      for (const [webhook, changedLater] of changedAfter) {
        if (changedLater && webhook.reinvocationPolicy === 'IfNeeded') await admitOnce(webhook, attributes, registry);
      }
    },
  };
}
