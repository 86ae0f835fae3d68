import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TlsMaterial {
  key: Buffer;
  cert: Buffer;
  /** PEM file a client trusts (APNS_CA_FILE, WEBPUSH_CA_FILE). */
  caFile: string;
}

/** A self-signed certificate for localhost and 127.0.0.1 (openssl CLI), in a temp directory. */
export function selfSignedCertificate(dir = mkdtempSync(join(tmpdir(), 'tls-'))): TlsMaterial {
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  return { key: readFileSync(keyFile), cert: readFileSync(certFile), caFile: certFile };
}

/** TLS material from existing PEM files (the local stack's, made by scripts/stack/up.sh). */
export function loadTls(keyFile: string, certFile: string): TlsMaterial {
  return { key: readFileSync(keyFile), cert: readFileSync(certFile), caFile: certFile };
}
