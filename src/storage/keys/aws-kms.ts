import type { KmsClient, KmsResponse } from './nitro-kms.js';
import { JsonPostError, postJson } from './post-json.js';
import { amzDate, sigV4Authorization, type AwsCredentials } from './sigv4.js';

/**
 * The AWS KMS JSON API (TrentService) signed with SigV4. Inside a Nitro enclave there is no
 * network: `endpoint` is the local end of the vsock proxy the parent runs towards
 * kms.<region>.amazonaws.com. The key itself never travels in clear: the provider asks for it
 * encrypted to its attested recipient key.
 */
export interface AwsKmsOptions {
  region: string;
  /** Default https://kms.<region>.amazonaws.com. */
  endpoint?: string;
  credentials: AwsCredentials;
  /** Extra trust anchors for the endpoint's certificate (PEM). */
  ca?: string;
}

export function awsCredentialsFromEnv(env: NodeJS.ProcessEnv): AwsCredentials | undefined {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) return undefined;
  return { accessKeyId, secretAccessKey, ...(env.AWS_SESSION_TOKEN && { sessionToken: env.AWS_SESSION_TOKEN }) };
}

export function createAwsKmsClient(options: AwsKmsOptions): KmsClient {
  const endpoint = new URL(options.endpoint ?? `https://kms.${options.region}.amazonaws.com`);
  const call = async (operation: 'Decrypt' | 'GenerateDataKey', request: object): Promise<KmsResponse> => {
    const body = JSON.stringify(request);
    const headers: Record<string, string> = {
      host: endpoint.host,
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `TrentService.${operation}`,
      'x-amz-date': amzDate(new Date()),
      ...(options.credentials.sessionToken && { 'x-amz-security-token': options.credentials.sessionToken }),
    };
    headers.authorization = sigV4Authorization({
      method: 'POST', path: '/', headers, body, region: options.region, service: 'kms', credentials: options.credentials, amzDate: headers['x-amz-date']!,
    });
    try {
      return (await postJson(endpoint, headers, body, { what: `KMS ${operation}`, ...(options.ca && { ca: options.ca }) })) as KmsResponse;
    } catch (error) {
      // KMS errors are {"__type": "…#AccessDeniedException", "message": "…"}.
      const refusal = error instanceof JsonPostError ? error.body : undefined;
      if (!refusal) throw error;
      const type = String(refusal.__type ?? 'error').split('#').pop();
      throw new Error(`KMS ${operation} at ${endpoint.origin} refused: ${type}: ${String(refusal.message ?? refusal.Message ?? '')}`);
    }
  };
  return {
    decrypt: (request) => call('Decrypt', request),
    generateDataKey: (request) => call('GenerateDataKey', request),
  };
}
