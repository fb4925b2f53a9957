// shoal swarm ca: show the swarm's root CA certificate, or rotate it (a new root the swarm
// makes, or the one given with --ca-cert and --ca-key) and follow the rotation until every node
// has a certificate from the new root and trusts only it. docker's checks, messages and calls.
import { readFileSync } from 'node:fs';
import type { Swarm, SwarmSpec } from '../../format/swarm-types';
import { ExitError } from '../../errors';
import { withInterrupt } from '../../io/converge';
import { FlagError } from '../../opts/errors';
import { parseGoDuration } from '../../opts/values';
import type { ShoalCommand } from '../../program';
import { updateQuery, type SwarmCli } from './common';
import { followRotation, type FollowOptions } from './rotation';

export const EXTERNAL_CA_REFUSAL = 'external CAs are not supported by shoal: the swarm signs its own certificates';

export interface CaFlags {
  caCert?: string;
  caKey?: string;
  certExpiry?: string;
  detach?: boolean;
  externalCa?: string;
  quiet?: boolean;
  rotate?: boolean;
}

/** The flags once read: PEM contents and the expiry in nanoseconds. */
export interface CaRequest {
  rotate: boolean;
  detach: boolean;
  quiet: boolean;
  cert?: string;
  key?: string;
  certExpiry?: number;
}

/** Go's pem.Decode succeeding: some BEGIN/END block of the same type around valid base64. */
export function hasPemBlock(text: string): boolean {
  const re = /-----BEGIN ([^\n]*?)-----\r?\n([\s\S]*?)-----END \1-----/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    // optional "Key: value" headers end at a blank line
    const body = /^[^\n]*:/.test(m[2]) ? m[2].slice(m[2].search(/\r?\n\r?\n/) + 1) : m[2];
    const b64 = body.replace(/\s+/g, '');
    if (b64.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(b64)) return true;
  }
  return false;
}

const ERRNO: Record<string, string> = { ENOENT: 'no such file or directory', EACCES: 'permission denied', EISDIR: 'is a directory' };

/** A pem-file flag, read as docker reads it when parsing the flag. */
export function readPemFlag(path: string, flag: string, read: (p: string) => string = (p) => readFileSync(p, 'utf8')): string {
  let text: string;
  try {
    text = read(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    throw new FlagError(flag, path, code === 'EISDIR' ? `read ${path}: is a directory` : `open ${path}: ${ERRNO[code] ?? (e as Error).message}`);
  }
  if (!hasPemBlock(text)) throw new FlagError(flag, path, 'file contents must be in PEM format');
  return text;
}

/** Everything checked before the daemon is called: files readable and PEM, durations valid. */
export function caRequest(o: CaFlags, read?: (p: string) => string): CaRequest {
  if (o.externalCa !== undefined) throw new ExitError(1, EXTERNAL_CA_REFUSAL);
  return {
    rotate: !!o.rotate,
    detach: !!o.detach,
    quiet: !!o.quiet,
    cert: o.caCert === undefined ? undefined : readPemFlag(o.caCert, '--ca-cert', read),
    key: o.caKey === undefined ? undefined : readPemFlag(o.caKey, '--ca-key', read),
    certExpiry: o.certExpiry === undefined ? undefined : parseGoDuration(o.certExpiry, '--cert-expiry'),
  };
}

/** docker's refusals once the swarm is read: CA flags need --rotate, a cert needs its key. */
export function caRefusal(r: CaRequest): string | undefined {
  if (!r.rotate) {
    const given: Array<[string, unknown]> = [
      ['ca-cert', r.cert],
      ['ca-key', r.key],
      ['cert-expiry', r.certExpiry],
    ];
    const first = given.find(([, v]) => v !== undefined);
    return first ? `\`--${first[0]}\` flag requires the \`--rotate\` flag to update the CA` : undefined;
  }
  if (r.cert !== undefined && r.key === undefined) return 'the --ca-cert flag requires that a --ca-key flag and/or --external-ca flag be provided as well';
  return undefined;
}

/**
 * The spec to send: the given root (cert and key) or, with neither, ForceRotate + 1 so the swarm
 * makes a new one; empty fields left out as Go's omitempty does.
 */
export function rotatedSpec<S extends SwarmSpec>(spec: S, r: CaRequest): S {
  const out: S = structuredClone(spec);
  const ca = { ...(out.CAConfig ?? {}) };
  if (r.certExpiry !== undefined) ca.NodeCertExpiry = r.certExpiry;
  delete ca.SigningCACert;
  delete ca.SigningCAKey;
  if (r.cert) ca.SigningCACert = r.cert;
  if (r.key) ca.SigningCAKey = r.key;
  if (!r.cert && !r.key) ca.ForceRotate = (ca.ForceRotate ?? 0) + 1;
  out.CAConfig = ca;
  return out;
}

/** The root certificate, trimmed, on its own; docker's error when the swarm has none. */
export function trustRootText(sw: Swarm): string {
  const root = sw.TLSInfo?.TrustRoot ?? '';
  if (root === '') throw new ExitError(1, 'No CA information available');
  return `${root.trim()}\n`;
}

export async function runCa(cli: SwarmCli, r: CaRequest, follow: Omit<FollowOptions, 'quiet'> = {}): Promise<void> {
  const sw = await cli.client.get<Swarm>('/swarm');
  const refusal = caRefusal(r);
  if (refusal) throw new ExitError(1, refusal);
  if (!r.rotate) {
    cli.out(trustRootText(sw));
    return;
  }
  await cli.client.post('/swarm/update', { query: updateQuery(sw.Version?.Index), body: rotatedSpec(sw.Spec, r) });
  if (r.detach) return;
  const converged = await followRotation(cli, { ...follow, quiet: r.quiet });
  // docker stops there when interrupted, and prints nothing more when quiet
  if (!converged || r.quiet) return;
  cli.out(trustRootText(await cli.client.get<Swarm>('/swarm')));
}

export function defineCa(cmd: ShoalCommand, cli: SwarmCli): void {
  cmd
    .description('Display and rotate the root CA')
    .option('--ca-cert <pem-file>', 'Path to the PEM-formatted root CA certificate to use for the new cluster')
    .option('--ca-key <pem-file>', 'Path to the PEM-formatted root CA key to use for the new cluster')
    .option('--cert-expiry <duration>', 'Validity period for node certificates (ns|us|ms|s|m|h) (default 2160h0m0s)')
    .option('-d, --detach', 'Exit immediately instead of waiting for the root rotation to converge')
    .option('--external-ca <external-ca>', 'Specifications of one or more certificate signing endpoints (not supported by shoal)')
    .option('-q, --quiet', 'Suppress progress output')
    .option('--rotate', 'Rotate the swarm CA - if no certificate or key are provided, new ones will be generated')
    .action(async () => {
      const r = caRequest(cmd.opts() as CaFlags);
      await withInterrupt((interrupt) => runCa(cli, r, { interrupt }));
    });
}
