// Following a root CA rotation as docker's `swarm ca` does: poll GET /swarm and GET /nodes every
// 200 ms; a node counts for the first bar when its certificate's issuer is the cluster's, for
// the second when it trusts the cluster's root. Done when both bars are full and the cluster no
// longer reports a rotation in progress. The lines go through docker's JSON-message display:
// redrawn in place on a terminal; on a pipe only the lines without counts (the digest).
import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Node, Swarm, TLSInfo } from '../../format/swarm-types';
import { LineRedraw, progressBar, type Sink } from '../../io/converge';
import type { SwarmCli } from './common';

const DIGEST = 'desired root digest';
const CERTS = '  rotated TLS certificates';
// One character shorter than CERTS: its action is a space so that the bars line up.
const ROOTS = '  rotated CA certificates';

/** One progress message (docker's progress.Progress): a line keyed by id, or a plain message. */
export interface ProgressLine {
  id: string;
  action: string;
  current?: number;
  total?: number;
  units?: string;
  /** A plain message line (no id, no counts). */
  message?: string;
}

/** The three lines drawn before the first poll. */
export const INITIAL_LINES: ProgressLine[] = [
  { id: DIGEST, action: '' },
  { id: CERTS, action: '' },
  { id: ROOTS, action: ' ' },
];

/** docker's message when the wait is interrupted before convergence. */
export const INTERRUPTED_LINES: ProgressLine[] = [
  { id: '', action: '', message: 'Operation continuing in background.' },
  { id: '', action: '', message: 'Use `shoal node inspect` to check progress.' },
];

export function rootDigest(trustRoot: string): string {
  return `sha256:${createHash('sha256').update(trustRoot).digest('hex')}`;
}

const same = (a: string | undefined, b: string | undefined) => (a ?? '') === (b ?? '');

/** One poll's lines, and whether the rotation has converged. */
export function rotationProgress(desired: TLSInfo, nodes: Node[], inProgress: boolean): { lines: ProgressLine[]; done: boolean } {
  let certs = 0;
  let roots = 0;
  for (const n of nodes) {
    const tls = n.Description?.TLSInfo ?? {};
    if (same(tls.CertIssuerPublicKey, desired.CertIssuerPublicKey) && same(tls.CertIssuerSubject, desired.CertIssuerSubject)) certs++;
    if (same(tls.TrustRoot, desired.TrustRoot)) roots++;
  }
  const total = nodes.length;
  const certsDone = certs === total && !inProgress;
  return {
    lines: [
      { id: DIGEST, action: rootDigest(desired.TrustRoot ?? '') },
      { id: CERTS, action: '', current: certs, total, units: 'nodes' },
      // Until every certificate is renewed the roots show 0: nodes trust both roots meanwhile.
      { id: ROOTS, action: ' ', current: certsDone ? roots : 0, total, units: 'nodes' },
    ],
    done: certsDone && roots === total,
  };
}

/** docker's JSONProgress text: a bar on terminals wider than 110 columns, then "N/M units". */
export function progressText(l: ProgressLine, width: number): string {
  const current = l.current ?? 0;
  const total = l.total ?? 0;
  const units = l.units ?? '';
  if (current <= 0 && total <= 0) return '';
  if (total <= 0) return `${current} ${units}`;
  return progressBar(current, total, width) + (current > total ? `${current} ${units}` : `${current}/${total} ${units}`);
}

/** docker's display of a JSON-message stream, for progress lines and plain messages. */
export class ProgressDisplay {
  private readonly lines: LineRedraw;

  constructor(
    private readonly out: Sink,
    private readonly tty: boolean,
    private readonly width = 200,
  ) {
    this.lines = new LineRedraw(out);
  }

  write(l: ProgressLine): void {
    if (l.message !== undefined) {
      this.lines.clear();
      this.out.write(`${l.message}\n`);
      return;
    }
    if (!this.tty) {
      // a pipe gets no progress bars: only the lines without counts
      if (progressText(l, 200) === '') this.out.write(`${l.id}: ${l.action}\n`);
      return;
    }
    this.lines.draw(l.id, `${l.action} ${progressText(l, this.width)}`);
  }
}

export interface FollowOptions {
  /** Nothing shown (the polling still runs). */
  quiet?: boolean;
  /** Ctrl-C: stop waiting, the rotation goes on in the daemon. */
  interrupt?: AbortSignal;
  /** Milliseconds between polls (docker: 200). */
  interval?: number;
}

/** Poll until the rotation converges; false when interrupted first. */
export async function followRotation(cli: SwarmCli, opts: FollowOptions = {}): Promise<boolean> {
  const out = cli.io.stdout;
  const display = opts.quiet ? undefined : new ProgressDisplay(out, !!out.isTTY, out.columns ?? 200);
  for (const l of INITIAL_LINES) display?.write(l);
  let done = false;
  for (;;) {
    const sw = await cli.client.get<Swarm>('/swarm');
    // docker reads the swarm once more after converging before it stops
    if (done) return true;
    const nodes = await cli.client.get<Node[]>('/nodes');
    const r = rotationProgress(sw.TLSInfo ?? {}, nodes ?? [], !!sw.RootRotationInProgress);
    for (const l of r.lines) display?.write(l);
    done = r.done;
    await delay(opts.interval ?? 200, undefined, { signal: opts.interrupt }).catch(() => undefined);
    if (opts.interrupt?.aborted) {
      if (!done) for (const l of INTERRUPTED_LINES) display?.write(l);
      return false;
    }
  }
}
