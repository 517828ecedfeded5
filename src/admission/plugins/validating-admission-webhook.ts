/**
 * ValidatingAdmissionWebhook: every matching webhook of the ValidatingWebhookConfigurations is
 * called (in parallel, as upstream), and any denial refuses the request.
 */
import type { AdmissionPlugin } from '../admission.js';
import { admissionAnswer, configuredWebhooks, denial, type RegistryRef } from '../webhook-dispatch.js';

export function validatingAdmissionWebhook(registry: RegistryRef): AdmissionPlugin {
  return {
    name: 'ValidatingAdmissionWebhook',
    async validate(attributes) {
      const webhooks = configuredWebhooks(registry(), 'validatingwebhookconfigurations');
      if (webhooks.length === 0) return;
      const answers = await Promise.all(webhooks.map(async (webhook) => ({ webhook, answer: await admissionAnswer(webhook, attributes, registry()) })));
      for (const { webhook, answer } of answers) if (answer && !answer.allowed) throw denial(webhook, answer);
    },
  };
}
