/**
 * The simulated KMS behind the real KMS JSON protocol on 127.0.0.1: what `--kms-endpoint` talks
 * to in tests. It answers as AWS does (x-amz-json-1.1, TrentService targets, {"__type", "message"}
 * errors) and refuses requests without a SigV4 Authorization for the kms service.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SimulatedKms } from './simulated-kms.js';

export interface KmsHttpServer {
  endpoint: string;
  kms: SimulatedKms;
  /** Each request's X-Amz-Target and Authorization header. */
  requests: { target: string; authorization: string }[];
  close(): Promise<void>;
}

export async function startKmsHttpServer(allowedPcr0: Buffer): Promise<KmsHttpServer> {
  const kms = new SimulatedKms(allowedPcr0);
  const requests: KmsHttpServer['requests'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const authorization = String(req.headers.authorization ?? '');
      requests.push({ target, authorization });
      const answer = (status: number, body: object) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(body));
      };
      if (!/^AWS4-HMAC-SHA256 Credential=\w+\/\d{8}\/[a-z0-9-]+\/kms\/aws4_request, SignedHeaders=[^,]*host[^,]*x-amz-date[^,]*, Signature=[0-9a-f]{64}$/.test(authorization)) {
        answer(400, { __type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' });
        return;
      }
      const request = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const operation = target === 'TrentService.Decrypt' ? kms.decrypt(request) : target === 'TrentService.GenerateDataKey' ? kms.generateDataKey(request) : undefined;
      if (!operation) {
        answer(400, { __type: 'UnknownOperationException' });
        return;
      }
      operation.then(
        (response) => answer(200, response),
        (error: Error) => {
          const [type, ...message] = error.message.split(': ');
          answer(400, { __type: `com.amazonaws.kms#${type}`, message: message.join(': ') });
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    kms,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
