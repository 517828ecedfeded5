/**
 * The etcd client: `etcd3` (a maintained etcd v3 client over @grpc/grpc-js and etcd's own protos).
 * The only module that builds one, from serve's --etcd-* flags.
 */
import { readFileSync } from 'node:fs';
import { Etcd3 } from 'etcd3';

export interface EtcdConnectOptions {
  /** Client URLs, e.g. https://10.0.0.1:2379 (all http or all https). */
  endpoints: readonly string[];
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

/** Large enough for a page of records or snapshot parts in one gRPC message. */
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

export function connectEtcd(options: EtcdConnectOptions): Etcd3 {
  if (options.endpoints.length === 0) throw new Error('--storage etcd needs --etcd-endpoints');
  for (const endpoint of options.endpoints) {
    if (!/^https?:\/\/[^/]+\/?$/.test(endpoint)) throw new Error(`--etcd-endpoints: ${JSON.stringify(endpoint)} is not a URL like https://127.0.0.1:2379`);
  }
  const secure = options.endpoints.some((endpoint) => endpoint.startsWith('https://'));
  if ((options.certFile === undefined) !== (options.keyFile === undefined)) throw new Error('--etcd-certfile and --etcd-keyfile go together');
  if (!secure && (options.caFile || options.certFile)) throw new Error('--etcd-cafile/--etcd-certfile need https:// etcd endpoints');
  const credentials = secure
    ? {
        rootCertificate: options.caFile ? readFileSync(options.caFile) : (undefined as unknown as Buffer),
        ...(options.certFile && { certChain: readFileSync(options.certFile), privateKey: readFileSync(options.keyFile!) }),
      }
    : undefined;
  return new Etcd3({
    hosts: options.endpoints.map((endpoint) => endpoint.replace(/\/$/, '')),
    ...(credentials && { credentials }),
    dialTimeout: 3000,
    grpcOptions: { 'grpc.max_receive_message_length': MAX_MESSAGE_BYTES, 'grpc.max_send_message_length': MAX_MESSAGE_BYTES },
  });
}
