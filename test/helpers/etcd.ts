// A private etcd member for one test suite: loopback ports chosen free, data in a temp dir,
// run by the real EtcdMember (so its supervisor is under test too). destroy() stops it by PID
// and removes the directory. Also a TCP proxy to cut a client off from etcd and let it back.
import { promises as fs } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { Etcd3 } from 'etcd3';
import { EtcdMember, compileEtcdConfig, type EtcdMemberOptions } from '../../manager/etcd';
import { silenceLogging } from '../../shared/log';
import type { Supervisor } from '../../shared/supervisor';
import { freePort } from './registry';

if (!process.env.SHOAL_TEST_LOG) silenceLogging();

export interface TestEtcd {
  member: EtcdMember;
  name: string;
  dir: string;
  clientUrl: string;
  peerUrl: string;
  endpoints: string[];
  /** A client for this member, closed by destroy(). */
  client(): Etcd3;
  /** SIGKILL the etcd process (its supervisor restarts it). */
  kill(): void;
  /** Stop the member and remove its directory. */
  destroy(): Promise<void>;
}

export interface TestEtcdOptions {
  name?: string;
  initialCluster?: Record<string, string>;
  initialClusterState?: 'new' | 'existing';
  /** Pre-chosen peer port (for a member whose peer URL was added to the cluster first). */
  peerPort?: number;
  extra?: Partial<EtcdMemberOptions>;
}

export async function startTestEtcd(opts: TestEtcdOptions = {}): Promise<TestEtcd> {
  const dir = await fs.mkdtemp(join(tmpdir(), 'shoal-etcd-'));
  const name = opts.name ?? 'm1';
  const clientUrl = `http://127.0.0.1:${await freePort()}`;
  const peerUrl = `http://127.0.0.1:${opts.peerPort ?? (await freePort())}`;
  const config = compileEtcdConfig({
    name,
    dataRoot: dir,
    clientUrls: [clientUrl],
    peerUrl,
    initialCluster: opts.initialCluster,
    initialClusterState: opts.initialClusterState,
    ...opts.extra,
  });
  const member = new EtcdMember(config, { stopGraceMs: 3000 });
  const clients: Etcd3[] = [];
  const t: TestEtcd = {
    member,
    name,
    dir,
    clientUrl,
    peerUrl,
    endpoints: [clientUrl],
    client() {
      const c = member.client();
      clients.push(c);
      return c;
    },
    kill() {
      const pid = member.pid;
      if (pid !== undefined) process.kill(pid, 'SIGKILL');
    },
    async destroy() {
      for (const c of clients) c.close();
      await member.stop();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await member.start();
  } catch (e) {
    await t.destroy();
    throw e;
  }
  return t;
}

export interface TcpProxy {
  port: number;
  url: string;
  /** Drop every connection and refuse new ones (connections are accepted, then reset). */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

/** A loopback TCP proxy to 127.0.0.1:targetPort that a test can cut and restore. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let open = true;
  const server: Server = createServer((client) => {
    if (!open) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const cut = () => {
    open = false;
    for (const s of sockets) s.resetAndDestroy();
    sockets.clear();
  };
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    cut,
    restore() {
      open = true;
    },
    async close() {
      cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** SIGKILL a supervised child and wait until its supervisor has it ready again; the new PID. */
export async function killAndAwaitRestart(sup: Supervisor): Promise<number> {
  const before = sup.restarts;
  const pid = sup.pid;
  if (pid === undefined) throw new Error('no child to kill');
  const ctl = new AbortController();
  const ready = (async () => {
    for await (const ev of sup.changes(ctl.signal)) if (ev.state === 'ready' && ev.restarts > before) return ev.pid as number;
    throw new Error('the supervisor stopped before its child was ready again');
  })();
  try {
    process.kill(pid, 'SIGKILL');
    return await ready;
  } finally {
    ctl.abort();
  }
}

/** `p`, or a failure if it never settles: a guard against a hung test, not a timing assertion. */
export async function within<T>(p: Promise<T>, guardMs = 20_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`nothing within ${guardMs} ms`)), guardMs)))]);
  } finally {
    clearTimeout(timer);
  }
}
