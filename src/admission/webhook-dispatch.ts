/**
 * What the mutating and validating webhook plugins share: the configured webhooks that match a
 * request (rules, selectors, matchConditions), the AdmissionReview they are sent, and upstream's
 * handling of the answer and of failures (failurePolicy).
 */
import { randomUUID } from 'node:crypto';
import { ApiError, errors } from '../api/status.js';
import type { Registry } from '../registry/registry.js';
import type { Obj } from '../registry/strategy.js';
import { compile, CelEvaluationError, type CompiledExpression } from '../cel/program.js';
import { log } from '../server/log.js';
import type { AdmissionAttributes } from './admission.js';
import { isAdmissionConfiguration, matches, type MatchCriteria } from './matching.js';
import { celActivation, userInfo } from './cel-activation.js';
import { callWebhook, WebhookCallError, type WebhookClientConfig } from './webhook-client.js';
import { WEBHOOK_VARIABLES } from '../registry/admission-registration.js';

export interface Webhook extends MatchCriteria {
  name: string;
  clientConfig: WebhookClientConfig;
  failurePolicy?: 'Fail' | 'Ignore';
  sideEffects?: string;
  timeoutSeconds?: number;
  reinvocationPolicy?: 'Never' | 'IfNeeded';
  matchConditions?: Array<{ name: string; expression: string }>;
  /** The configuration it belongs to (for ordering and messages). */
  configuration: string;
}

/** Registry access the webhook plugins need, given lazily (the registry is built after the chain). */
export type RegistryRef = () => Registry;

const compiled = new Map<string, CompiledExpression>();

function condition(expression: string): CompiledExpression {
  let program = compiled.get(expression);
  if (!program) {
    program = compile(expression, WEBHOOK_VARIABLES);
    if (compiled.size > 1000) compiled.clear();
    compiled.set(expression, program);
  }
  return program;
}

/** Webhooks of every configuration of this kind, configurations in name order as upstream. */
export function configuredWebhooks(registry: Registry, plural: 'mutatingwebhookconfigurations' | 'validatingwebhookconfigurations'): Webhook[] {
  const { items } = registry.of('admissionregistration.k8s.io', plural).list(undefined, {});
  return items
    .map((item) => item.object as Obj)
    .sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : 1))
    .flatMap((configuration) => (configuration.webhooks ?? []).map((webhook: Record<string, unknown>) => ({ ...webhook, configuration: configuration.metadata.name! }) as unknown as Webhook));
}

export function namespaceLabelsFrom(registry: Registry) {
  return (namespace: string) => (registry.of('', 'namespaces').tryGet(undefined, namespace)?.object.metadata.labels ?? undefined) as Record<string, string> | undefined;
}

/** Whether the webhook should be called: its rules and selectors match, and every matchCondition holds. */
export function shouldCall(webhook: Webhook, attributes: AdmissionAttributes, registry: Registry): boolean {
  if (isAdmissionConfiguration(attributes)) return false;
  if (!matches(webhook, attributes, namespaceLabelsFrom(registry))) return false;
  if (!webhook.matchConditions?.length) return true;
  const activation = celActivation(attributes, '');
  for (const match of webhook.matchConditions) {
    let result: unknown;
    try {
      result = condition(match.expression).evaluate(activation).value;
    } catch (error) {
      const message = error instanceof CelEvaluationError ? error.message : String(error);
      throw new WebhookCallError(`failed to evaluate match condition "${match.name}": ${message}`);
    }
    if (result !== true) return false;
  }
  return true;
}

function operationOptions(operation: string): Obj | undefined {
  const kind = operation === 'CREATE' ? 'CreateOptions' : operation === 'UPDATE' ? 'UpdateOptions' : operation === 'DELETE' ? 'DeleteOptions' : undefined;
  return kind ? { kind, apiVersion: 'meta.k8s.io/v1' } as Obj : undefined;
}

export function admissionReview(attributes: AdmissionAttributes, uid = randomUUID()): Obj {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    metadata: {},
    request: {
      uid,
      kind: attributes.kind,
      resource: attributes.resource,
      ...(attributes.subresource ? { subResource: attributes.subresource, requestSubResource: attributes.subresource } : {}),
      requestKind: attributes.kind,
      requestResource: attributes.resource,
      name: attributes.name ?? '',
      ...(attributes.namespace ? { namespace: attributes.namespace } : {}),
      operation: attributes.operation,
      userInfo: userInfo(attributes),
      object: attributes.object ?? null,
      oldObject: attributes.oldObject ?? null,
      dryRun: attributes.dryRun,
      options: operationOptions(attributes.operation) ?? null,
    },
  } as Obj;
}

export interface WebhookAnswer {
  allowed: boolean;
  status?: { code?: number; message?: string; reason?: string };
  patch?: string;
  patchType?: string;
  warnings?: string[];
  auditAnnotations?: Record<string, string>;
}

/** Calls the webhook and returns its answer; null when it failed and its failurePolicy is Ignore. */
export async function admissionAnswer(webhook: Webhook, attributes: AdmissionAttributes, registry: Registry): Promise<WebhookAnswer | null> {
  try {
    if (!shouldCall(webhook, attributes, registry)) return null;
    const uid = randomUUID();
    const review = await callWebhook(registry, webhook.clientConfig, admissionReview(attributes, uid), webhook.timeoutSeconds ?? 10);
    const response = review.response as (WebhookAnswer & { uid?: string }) | undefined;
    if (!response) throw new WebhookCallError('received invalid webhook response: the response is empty');
    if (response.uid !== uid) throw new WebhookCallError(`received invalid webhook response: expected response.uid="${uid}", got "${response.uid ?? ''}"`);
    for (const warning of response.warnings ?? []) attributes.warnings?.push(warning);
    for (const [key, value] of Object.entries(response.auditAnnotations ?? {})) {
      if (attributes.auditAnnotations) attributes.auditAnnotations[`${webhook.name}/${key}`] = value;
    }
    return response;
  } catch (error) {
    if (!(error instanceof WebhookCallError)) throw error;
    if (webhook.failurePolicy === 'Ignore') {
      log.warn('admission webhook failed; ignored by its failurePolicy', { webhook: webhook.name, error: error.message });
      if (attributes.auditAnnotations) attributes.auditAnnotations[`failed-open.${attributes.operation === 'DELETE' ? 'validating' : 'mutating'}.webhook.admission.k8s.io/round_0_index_0`] = webhook.name;
      return null;
    }
    throw errors.internal(`failed calling webhook "${webhook.name}": ${error.message}`);
  }
}

/** A denial as upstream words it: `admission webhook "<name>" denied the request: <message>`. */
export function denial(webhook: Webhook, answer: WebhookAnswer): ApiError {
  const base = `admission webhook "${webhook.name}" denied the request`;
  const message = answer.status?.message ? `${base}: ${answer.status.message}` : base;
  return new ApiError(answer.status?.code && answer.status.code >= 400 ? answer.status.code : 400, answer.status?.reason ?? '', message);
}
