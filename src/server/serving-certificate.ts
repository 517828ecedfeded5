/**
 * `--tls-cert-file` / `--tls-private-key-file`: a serving certificate from files, reloaded without
 * a restart when they change (as kube-apiserver's dynamic serving certificate): new connections
 * get the new certificate, open ones keep theirs. A pair that does not match — the usual moment
 * between writing the certificate and the key — is not applied; the next change is.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { unwatchFile, watchFile } from 'node:fs';
import type { KeyAndCert } from '../auth/pki.js';
import { log } from './log.js';

const POLL_MS = 1000;

export interface ServingCertificateFiles {
  certFile: string;
  keyFile: string;
}

/** Reads and checks the pair: a certificate (chain) and the private key of its first certificate. */
export async function loadServingCertificate(files: ServingCertificateFiles): Promise<KeyAndCert> {
  const [certPem, keyPem] = await Promise.all([readFile(files.certFile, 'utf8'), readFile(files.keyFile, 'utf8')]);
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certPem);
  } catch (error) {
    throw new Error(`--tls-cert-file ${files.certFile}: not a PEM certificate: ${(error as Error).message}`);
  }
  let key;
  try {
    key = createPrivateKey(keyPem);
  } catch (error) {
    throw new Error(`--tls-private-key-file ${files.keyFile}: not a PEM private key: ${(error as Error).message}`);
  }
  if (!certificate.checkPrivateKey(key)) throw new Error(`--tls-private-key-file ${files.keyFile} is not the key of the certificate in ${files.certFile}`);
  return { certPem, keyPem };
}

/** Calls `apply` with each new valid pair until stopped. */
export function watchServingCertificate(files: ServingCertificateFiles, current: KeyAndCert, apply: (pair: KeyAndCert) => void): { stop(): void } {
  let applied = current;
  let loading = false;
  const check = () => {
    if (loading) return;
    loading = true;
    loadServingCertificate(files)
      .then((pair) => {
        if (pair.certPem === applied.certPem && pair.keyPem === applied.keyPem) return;
        apply(pair);
        applied = pair;
        log.info('serving certificate reloaded', { certFile: files.certFile, subject: new X509Certificate(pair.certPem).subject, notAfter: new X509Certificate(pair.certPem).validTo });
      })
      .catch((error: Error) => log.warn('serving certificate files changed but cannot be used yet; keeping the current certificate', { error: error.message }))
      .finally(() => {
        loading = false;
      });
  };
  for (const file of [files.certFile, files.keyFile]) watchFile(file, { interval: POLL_MS, persistent: false }, check);
  return {
    stop() {
      for (const file of [files.certFile, files.keyFile]) unwatchFile(file, check);
    },
  };
}
