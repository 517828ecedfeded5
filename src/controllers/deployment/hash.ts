/**
 * The pod-template-hash: what names a Deployment's ReplicaSets (`<deployment>-<hash>`) and
 * labels their pods. Computed as upstream computes it — a 32-bit FNV-1a of the template (plus
 * the deployment's collisionCount, when set), printed in decimal, then each digit mapped onto
 * the vowel-free alphabet of generated names — so names have upstream's look (`web-7c5ddbdf54`).
 * Upstream hashes Go's printout of the template; we hash its canonical JSON, so the values differ
 * from a real cluster's, but they are as stable: the same template always gives the same hash.
 */
import type { Obj } from '../../client/api-client.js';

export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';

/** Upstream's rand.SafeEncodeString alphabet (no vowels, no confusable characters). */
const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export function computePodTemplateHash(template: Obj | undefined, collisionCount?: number): string {
  let hash = fnv1a32(Buffer.from(canonicalJson(template ?? {}), 'utf8'), 0x811c9dc5);
  if (collisionCount !== undefined && collisionCount !== null) {
    const bytes = Buffer.alloc(8);
    bytes.writeUInt32LE(collisionCount >>> 0, 0);
    hash = fnv1a32(bytes, hash);
  }
  return safeEncode(String(hash));
}

function fnv1a32(bytes: Uint8Array, seed: number): number {
  let hash = seed >>> 0;
  for (const byte of bytes) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

function safeEncode(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) out += SAFE_ALPHABET[text.charCodeAt(i) % SAFE_ALPHABET.length];
  return out;
}

/** JSON with object keys sorted, so equal templates hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value as Record<string, unknown>)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * Whether two pod templates are the same but for the pod-template-hash label (EqualIgnoreHash),
 * with upstream's semantic equality over Go structs: absent, null, empty map, empty list, "" and
 * false are all alike (Go decodes them to the same zero values).
 */
export function equalIgnoringHash(a: Obj | undefined, b: Obj | undefined): boolean {
  return comparable(a) === comparable(b);
}

/**
 * Templates as compared, remembered per template object: cached objects never change, so each
 * ReplicaSet's template is normalized once per version, not once per deployment sync.
 */
const comparableForms = new WeakMap<object, string>();

function comparable(template: Obj | undefined): string {
  if (!template) return canonicalJson(undefined);
  let form = comparableForms.get(template);
  if (form === undefined) {
    form = canonicalJson(semantic(withoutHash(template)));
    comparableForms.set(template, form);
  }
  return form;
}

function withoutHash(template: Obj | undefined): unknown {
  if (!template) return undefined;
  const labels = template.metadata?.labels;
  if (!labels || !(POD_TEMPLATE_HASH_LABEL in labels)) return template;
  const { [POD_TEMPLATE_HASH_LABEL]: _hash, ...rest } = labels;
  return { ...template, metadata: { ...template.metadata, labels: rest } };
}

function semantic(value: unknown): unknown {
  if (Array.isArray(value)) return value.length === 0 ? undefined : value.map((v) => semantic(v) ?? null);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      const normalized = semantic(v);
      if (normalized !== undefined) out[key] = normalized;
    }
    return Object.keys(out).length === 0 ? undefined : out;
  }
  return value === null || value === '' || value === false ? undefined : value;
}
