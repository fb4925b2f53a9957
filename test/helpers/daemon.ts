import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { EngineClient } from '../../shared/client';

export const REPO_ROOT = resolve(__dirname, '../../..');
export const SHOALD = join(REPO_ROOT, 'dist/bin/shoald.js');
export const SHOAL = join(REPO_ROOT, 'dist/bin/shoal.js');

export interface TestDaemon {
  dataRoot: string;
  execRoot: string;
  socket: string;
  host: string; // unix://...
  bridge: string;
  client: EngineClient;
  proc: ChildProcess;
  logs: () => string;
  /** SIGTERM and wait; the data root stays (for restart tests). */
  stop(): Promise<void>;
  /** SIGKILL and wait. */
  kill(): Promise<void>;
  /** Start a new shoald on the same roots. */
  restart(): Promise<void>;
  /** Stop, remove every container, and delete the roots. */
  destroy(): Promise<void>;
}

export interface DaemonOptions {
  runtime?: 'crun' | 'runc';
  extraArgs?: string[];
}

/** Start a private shoald (own roots, socket, bridge and subnet) for one test suite. */
export async function startDaemon(opts: DaemonOptions = {}): Promise<TestDaemon> {
  const tag = randomBytes(3).toString('hex');
  const base = await fs.mkdtemp(join(tmpdir(), `shoal-test-${tag}-`));
  const dataRoot = join(base, 'data');
  const execRoot = join(base, 'run');
  const socket = join(execRoot, 'shoal.sock');
  const bridge = `sht${tag}`;
  const bip = `10.${200 + (randomBytes(1)[0] % 50)}.${randomBytes(1)[0]}.1/24`;
  const args = [SHOALD, '--data-root', dataRoot, '--exec-root', execRoot, '--bridge', bridge, '--bip', bip, '--cgroup-parent', `/shoal-test-${tag}`, '--log-level', process.env.SHOAL_TEST_LOG ?? 'info', ...(opts.runtime ? ['--default-runtime', opts.runtime] : []), ...(opts.extraArgs ?? [])];
  let out = '';
  const d: TestDaemon = {
    dataRoot,
    execRoot,
    socket,
    host: `unix://${socket}`,
    bridge,
    client: new EngineClient(`unix://${socket}`),
    proc: undefined as unknown as ChildProcess,
    logs: () => out,
    async stop() {
      await terminate(d.proc, 'SIGTERM');
    },
    async kill() {
      await terminate(d.proc, 'SIGKILL');
    },
    async restart() {
      await launch();
    },
    async destroy() {
      try {
        if (d.proc.exitCode === null && d.proc.signalCode === null) {
          const list = await d.client.get<Array<{ Id: string }>>('/containers/json', { query: { all: 1 } }).catch(() => []);
          for (const c of list) await d.client.delete(`/containers/${c.Id}`, { query: { force: 1, v: 1 } }).catch(() => undefined);
          const nets = await d.client.get<Array<{ Id: string; Name: string }>>('/networks').catch(() => []);
          for (const n of nets) if (!['bridge', 'host', 'none'].includes(n.Name)) await d.client.delete(`/networks/${n.Id}`).catch(() => undefined);
        }
      } finally {
        d.client.close();
        await terminate(d.proc, 'SIGTERM');
        // A stopped daemon leaves its bridge and ruleset for the next start, as dockerd leaves
        // docker0; a test's daemon never starts again, so both go.
        const { run } = await import('../../shared/exec');
        await run('ip', ['link', 'del', bridge], { okCodes: [0, 1, 2] }).catch(() => undefined);
        await run('nft', ['delete', 'table', 'ip', `shoal_${bridge}`], { okCodes: [0, 1] }).catch(() => undefined);
        await fs.rm(base, { recursive: true, force: true }).catch(() => undefined);
      }
    },
  };
  async function launch(): Promise<void> {
    const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout!.on('data', (b) => (out += b));
    proc.stderr!.on('data', (b) => (out += b));
    d.proc = proc;
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) throw new Error(`shoald exited with ${proc.exitCode}:\n${out}`);
      if (existsSync(socket)) {
        try {
          await d.client.get('/_ping');
          return;
        } catch {
          /* not yet */
        }
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`shoald did not come up:\n${out}`);
  }
  await launch();
  return d;
}

async function terminate(proc: ChildProcess, sig: NodeJS.Signals): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const done = new Promise<void>((r) => proc.once('exit', () => r()));
  proc.kill(sig);
  const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
  await done;
  clearTimeout(t);
}

let busyboxTar: Promise<Buffer> | undefined;

/** The busybox rootfs tar, built once per test run by the project's recipe. */
export function busyboxRootfs(): Promise<Buffer> {
  busyboxTar ??= (async () => {
    const { run } = await import('../../shared/exec');
    const out = join(tmpdir(), `shoal-busybox-${process.pid}.tar`);
    await run(join(REPO_ROOT, 'deploy/images/busybox-rootfs.sh'), [out]);
    const buf = await fs.readFile(out);
    await fs.rm(out, { force: true });
    return buf;
  })();
  return busyboxTar;
}

/** Import the busybox image into a daemon as busybox:latest. */
export async function loadBusybox(d: TestDaemon, ref = 'busybox:latest'): Promise<void> {
  const [repo, tag] = ref.split(':');
  await d.client.post('/images/create', { query: { fromSrc: '-', repo, tag }, body: await busyboxRootfs(), headers: { 'Content-Type': 'application/x-tar' } });
}
