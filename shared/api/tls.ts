// TLS material for the TCP API, both ends: read the PEM files the user named and check them
// before anything starts, so a bad path or a mismatched key is one line naming the flag, not a
// handshake failure on the first connection.
import { readFileSync } from 'node:fs';
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { invalid, errorMessage } from '../errors';

/** Paths of the PEM files, by dockerd's flag names. */
export interface TlsFiles {
  tlscacert?: string;
  tlscert?: string;
  tlskey?: string;
}

/** Loaded PEM material, as node's tls options take it. */
export interface TlsMaterial {
  /** CA certificates (one or more PEM blocks) that peers' certificates must chain to. */
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** What a tcp:// listener serves with: its own certificate, and the CA its clients must be signed by. */
export type ServerTls = Required<TlsMaterial>;

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function read(flag: keyof TlsFiles, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : errorMessage(e);
    throw invalid(`--${flag} ${path}: cannot read: ${reason}`);
  }
}

/** Every certificate in a PEM file; at least one. */
function certificates(flag: keyof TlsFiles, path: string, pem: Buffer): X509Certificate[] {
  const blocks = pem.toString('utf8').match(PEM_CERT) ?? [];
  if (!blocks.length) throw invalid(`--${flag} ${path}: no PEM certificate in the file`);
  return blocks.map((b) => {
    try {
      return new X509Certificate(b);
    } catch (e) {
      throw invalid(`--${flag} ${path}: not a valid certificate: ${errorMessage(e)}`);
    }
  });
}

function privateKey(path: string, pem: Buffer): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (e) {
    const encrypted = /passphrase/i.test(errorMessage(e));
    throw invalid(`--tlskey ${path}: ${encrypted ? 'the key is encrypted (give an unencrypted PEM key)' : `not a valid PEM private key: ${errorMessage(e)}`}`);
  }
}

/**
 * Load and check what the given paths name: the CA file holds certificates, the certificate
 * parses, the key parses and belongs to the certificate. A certificate needs its key and back.
 */
export function loadTlsFiles(files: TlsFiles): TlsMaterial {
  const out: TlsMaterial = {};
  if (files.tlscacert !== undefined) {
    out.ca = read('tlscacert', files.tlscacert);
    certificates('tlscacert', files.tlscacert, out.ca);
  }
  if ((files.tlscert === undefined) !== (files.tlskey === undefined)) {
    throw invalid(files.tlscert === undefined ? '--tlskey needs --tlscert (the certificate of that key)' : '--tlscert needs --tlskey (the private key of that certificate)');
  }
  if (files.tlscert !== undefined && files.tlskey !== undefined) {
    out.cert = read('tlscert', files.tlscert);
    out.key = read('tlskey', files.tlskey);
    const [leaf] = certificates('tlscert', files.tlscert, out.cert);
    if (!leaf.checkPrivateKey(privateKey(files.tlskey, out.key))) throw invalid(`--tlskey ${files.tlskey} does not match --tlscert ${files.tlscert}`);
  }
  return out;
}

/** A tcp:// listener's material: all three files are required (clients are always verified). */
export function loadServerTls(files: Required<TlsFiles>): ServerTls {
  return loadTlsFiles(files) as ServerTls;
}

/**
 * Name a failed TLS connection in words a user can act on, from node's error code (OpenSSL's
 * alerts and verification results); undefined if the error is not about TLS.
 */
export function describeTlsError(err: NodeJS.ErrnoException): string | undefined {
  const code = err.code ?? '';
  if (/CERTIFICATE_REQUIRED/.test(code)) return 'the daemon requires a client certificate (give --tlscert and --tlskey, or put cert.pem and key.pem in DOCKER_CERT_PATH)';
  if (/ALERT_(UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_UNKNOWN|DECRYPT_ERROR|HANDSHAKE_FAILURE)/.test(code)) return `the daemon refused the client certificate (it must be signed by the daemon's --tlscacert): ${err.message}`;
  if (/^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_SIGNATURE_FAILURE)$/.test(code)) return `the daemon's certificate is not signed by --tlscacert (${err.message})`;
  if (/^CERT_(HAS_EXPIRED|NOT_YET_VALID)$/.test(code)) return `the daemon's certificate: ${err.message}`;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `the daemon's certificate does not name this host: ${err.message}`;
  if (/WRONG_VERSION_NUMBER|HTTP_REQUEST/.test(code)) return 'the daemon does not speak TLS on this port';
  if (/^ERR_(SSL|TLS)_/.test(code)) return err.message;
  return undefined;
}
