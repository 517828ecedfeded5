/**
 * `serve --encryption-provider-config FILE`: the upstream EncryptionConfiguration
 * (apiserver.config.k8s.io/v1) read and checked once at start. Each `resources` entry names the
 * resources it covers ("secrets", "deployments.apps", "*.apps", "*." for the core group, "*.*" for
 * all) and its providers in order: the first encrypts what is written, all are tried on read.
 * `kms` (apiVersion v2) is backed by the server's data-key provider rather than a gRPC plugin.
 * Anything this server cannot honour (a KMS v1 or plugin endpoint, a bad key) is refused
 * with a message naming the entry, so a server never stores Secrets in a way the operator did not ask for.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

export type ProviderKind = 'aesgcm' | 'aescbc' | 'secretbox' | 'identity' | 'kms';

export interface ProviderKey {
  name: string;
  secret: Buffer;
}

export interface ProviderConfig {
  kind: ProviderKind;
  /** For aesgcm/aescbc/secretbox, in order: the first encrypts, all decrypt. */
  keys: ProviderKey[];
  /** For kms: its name, in the stored prefix k8s:enc:kms:v2:<name>:. */
  name?: string;
}

export interface ResourceRule {
  /** The names as written: "secrets", "deployments.apps", "*.apps", "*.", "*.*". */
  resources: string[];
  providers: ProviderConfig[];
}

export interface EncryptionConfiguration {
  rules: ResourceRule[];
}

export class EncryptionConfigError extends Error {
  override readonly name = 'EncryptionConfigError';
}

const AES_KEY_BYTES = [16, 24, 32];
const SECRETBOX_KEY_BYTES = 32;
/** The kms endpoint that names the server's own data-key provider (serve --key-provider). */
export const KEY_PROVIDER_ENDPOINT = 'nautilus:key-provider';

export function loadEncryptionConfiguration(file: string): EncryptionConfiguration {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new EncryptionConfigError(`cannot read encryption provider config ${file}: ${(error as Error).message}`);
  }
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new EncryptionConfigError(`encryption provider config ${file} is not valid YAML or JSON: ${(error as Error).message}`);
  }
  try {
    return parseEncryptionConfiguration(document);
  } catch (error) {
    if (error instanceof EncryptionConfigError) throw new EncryptionConfigError(`encryption provider config ${file}: ${error.message}`);
    throw error;
  }
}

export function parseEncryptionConfiguration(document: unknown): EncryptionConfiguration {
  const root = asObject(document, 'the document');
  if (root.kind !== 'EncryptionConfiguration') throw new EncryptionConfigError(`kind must be EncryptionConfiguration, got ${JSON.stringify(root.kind)}`);
  if (root.apiVersion !== 'apiserver.config.k8s.io/v1') throw new EncryptionConfigError(`apiVersion must be apiserver.config.k8s.io/v1, got ${JSON.stringify(root.apiVersion)}`);
  if (!Array.isArray(root.resources) || root.resources.length === 0) throw new EncryptionConfigError('resources: Required value: at least one resources entry must be specified');
  const seen = new Set<string>();
  const kmsNames = new Set<string>();
  const rules = root.resources.map((entry, i): ResourceRule => {
    const path = `resources[${i}]`;
    const rule = asObject(entry, path);
    if (!Array.isArray(rule.resources) || rule.resources.length === 0) throw new EncryptionConfigError(`${path}.resources: Required value: at least one resource must be specified`);
    const resources = rule.resources.map((name, j) => {
      if (typeof name !== 'string' || name === '' || name !== name.toLowerCase() || /\s/.test(name)) {
        throw new EncryptionConfigError(`${path}.resources[${j}]: Invalid value: ${JSON.stringify(name)}: must be a lowercase resource name such as "secrets", "deployments.apps" or "*.apps"`);
      }
      if (name === '*') throw new EncryptionConfigError(`${path}.resources[${j}]: Invalid value: "*": use "*.*" for all resources or "*." for the core group`);
      if (seen.has(name)) throw new EncryptionConfigError(`${path}.resources[${j}]: Duplicate value: ${JSON.stringify(name)}`);
      seen.add(name);
      return name;
    });
    if (!Array.isArray(rule.providers) || rule.providers.length === 0) throw new EncryptionConfigError(`${path}.providers: Required value: at least one provider must be specified`);
    const providers = rule.providers.map((provider, j) => parseProvider(provider, `${path}.providers[${j}]`, kmsNames));
    return { resources, providers };
  });
  return { rules };
}

function parseProvider(value: unknown, path: string, kmsNames: Set<string>): ProviderConfig {
  const provider = asObject(value, path);
  const kinds = Object.keys(provider);
  if (kinds.length !== 1) {
    throw new EncryptionConfigError(`${path}: Invalid value: ${kinds.length === 0 ? 'no provider' : kinds.join(', ')}: exactly one provider must be given per list element`);
  }
  const kind = kinds[0];
  if (kind === 'identity') return { kind, keys: [] };
  if (kind === 'kms') return parseKms(asObject(provider.kms, `${path}.kms`), `${path}.kms`, kmsNames);
  if (kind !== 'aesgcm' && kind !== 'aescbc' && kind !== 'secretbox') throw new EncryptionConfigError(`${path}: Unsupported value: unknown provider ${JSON.stringify(kind)} (supported: aesgcm, aescbc, secretbox, kms, identity)`);
  const body = asObject(provider[kind], `${path}.${kind}`);
  if (!Array.isArray(body.keys) || body.keys.length === 0) throw new EncryptionConfigError(`${path}.${kind}.keys: Required value: at least one key must be specified`);
  const names = new Set<string>();
  const keys = body.keys.map((entry, k): ProviderKey => {
    const keyPath = `${path}.${kind}.keys[${k}]`;
    const key = asObject(entry, keyPath);
    if (typeof key.name !== 'string' || key.name === '') throw new EncryptionConfigError(`${keyPath}.name: Required value: key name must be specified`);
    if (key.name.includes(':')) throw new EncryptionConfigError(`${keyPath}.name: Invalid value: ${JSON.stringify(key.name)}: must not contain ":"`);
    if (names.has(key.name)) throw new EncryptionConfigError(`${keyPath}.name: Duplicate value: ${JSON.stringify(key.name)}`);
    names.add(key.name);
    if (typeof key.secret !== 'string' || key.secret === '') throw new EncryptionConfigError(`${keyPath}.secret: Required value: secret must be specified`);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key.secret) || key.secret.length % 4 !== 0) throw new EncryptionConfigError(`${keyPath}.secret: Invalid value: REDACTED: secrets must be base64 encoded`);
    const secret = Buffer.from(key.secret, 'base64');
    if (kind === 'secretbox' && secret.length !== SECRETBOX_KEY_BYTES) {
      throw new EncryptionConfigError(`${keyPath}.secret: Invalid value: REDACTED: secret is not of the expected length, got ${secret.length}, expected ${SECRETBOX_KEY_BYTES}`);
    }
    if (kind !== 'secretbox' && !AES_KEY_BYTES.includes(secret.length)) {
      throw new EncryptionConfigError(`${keyPath}.secret: Invalid value: REDACTED: secret is not of the expected length, got ${secret.length}, expected one of [16 24 32]`);
    }
    return { name: key.name, secret };
  });
  return { kind, keys };
}

/** kms as upstream validates it (name, apiVersion, endpoint), the endpoint being the key provider. */
function parseKms(kms: Record<string, unknown>, path: string, kmsNames: Set<string>): ProviderConfig {
  const apiVersion = kms.apiVersion ?? 'v1';
  if (apiVersion !== 'v2') {
    throw new EncryptionConfigError(`${path}.apiVersion: Unsupported value: ${JSON.stringify(apiVersion)}: KMS v1 is deprecated upstream (off by default since 1.29); supported values: "v2"`);
  }
  if (typeof kms.name !== 'string' || kms.name === '') throw new EncryptionConfigError(`${path}.name: Required value: kms provider name must be specified`);
  if (kms.name.includes(':')) throw new EncryptionConfigError(`${path}.name: Invalid value: ${JSON.stringify(kms.name)}: should not contain ":"`);
  if (kmsNames.has(kms.name)) throw new EncryptionConfigError(`${path}.name: Invalid value: ${JSON.stringify(kms.name)}: duplicate kms provider name, names must be unique`);
  kmsNames.add(kms.name);
  if (kms.cachesize !== undefined) throw new EncryptionConfigError(`${path}.cachesize: Invalid value: ${JSON.stringify(kms.cachesize)}: cachesize is not supported in v2`);
  if (kms.endpoint !== undefined && kms.endpoint !== KEY_PROVIDER_ENDPOINT) {
    throw new EncryptionConfigError(
      `${path}.endpoint: Unsupported value: ${JSON.stringify(kms.endpoint)}: this server reaches no KMS plugin socket; its KMS is the data-key provider (serve --key-provider): use endpoint ${JSON.stringify(KEY_PROVIDER_ENDPOINT)} or leave it out`,
    );
  }
  return { kind: 'kms', keys: [], name: kms.name };
}

function asObject(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new EncryptionConfigError(`${path}: must be an object`);
  return value as Record<string, unknown>;
}
