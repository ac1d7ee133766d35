import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, fetch as undiciFetch } from 'undici';

export interface TestCertificates {
  /** The private CA's certificate: what clients are told to trust (--ca). */
  ca: string;
  /** A certificate for localhost and 127.0.0.1 signed by that CA, and its key (--tls-cert, --tls-key). */
  cert: string;
  key: string;
}

/**
 * A private CA and a server certificate it signed, made with openssl in `dir`, valid for a day: what
 * an operator gets from mkcert or their own CA, so tests trust it the way users do, by the CA.
 */
export function makeCertificates(dir: string): TestCertificates {
  const path = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=Shoal test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  openssl('req', ...ec, '-keyout', 'key.pem', '-out', 'server.csr', '-subj', '/CN=localhost');
  writeFileSync(path('server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'cert.pem', '-days', '1', '-extfile', 'server.ext');
  return { ca: path('ca.pem'), cert: path('cert.pem'), key: path('key.pem') };
}

/** The base64 SHA-256 of the certificate's public key: what Chromium's --ignore-certificate-errors-spki-list names. */
export function spkiHash(cert: string): string {
  const der = execFileSync('openssl', ['x509', '-in', cert, '-pubkey', '-noout']);
  const pub = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'der'], { input: der });
  return execFileSync('openssl', ['dgst', '-sha256', '-binary'], { input: pub }).toString('base64');
}

/**
 * fetch that trusts the CA in `caFile`: Node's own fetch trusts only NODE_EXTRA_CA_CERTS, read as the
 * process starts, and a test process cannot set that for itself.
 */
export function fetchTrusting(caFile: string): typeof fetch {
  const dispatcher = new Agent({ connect: { ca: readFileSync(caFile) } });
  return ((input: string | URL | Request, init?: RequestInit) => undiciFetch(input as string, { ...(init as object), dispatcher } as never)) as unknown as typeof fetch;
}
