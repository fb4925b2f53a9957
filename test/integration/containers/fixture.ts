// The real engine stack for container tests: image store (busybox imported), volumes,
// networking and the container manager, on private roots, a private bridge and cgroup parent.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes, randomInt } from 'node:crypto';
import { Readable } from 'node:stream';
import { EventBus } from '../../../shared/events';
import { silenceLogging } from '../../../shared/log';
import type { DaemonConfig } from '../../../worker/daemon/config';
import { ContainerManager, type AttachSession } from '../../../worker/engine/containers';
import { ImageStore } from '../../../worker/engine/images';
import { VolumeStore } from '../../../worker/engine/volumes';
import { NetworkManager } from '../../../worker/network';
import { cgroups } from '../../../worker/engine/runtime';
import { readMountInfo } from '../../../worker/engine/rootfs';
import { busyboxRootfs } from '../../helpers/daemon';

export interface Stack {
  base: string;
  config: DaemonConfig;
  events: EventBus;
  images: ImageStore;
  volumes: VolumeStore;
  networks: NetworkManager;
  cm: ContainerManager;
  busyboxId: string;
  /** Close the manager (containers keep running) and open a new one on the same roots. */
  reopen(): Promise<ContainerManager>;
  /** Remove every container, the network state, the roots; check nothing is left. */
  destroy(): Promise<void>;
}

export async function makeStack(opts: { runtime?: 'crun' | 'runc' } = {}): Promise<Stack> {
  if (!process.env.SHOAL_TEST_LOG) silenceLogging();
  const tag = randomBytes(3).toString('hex');
  const base = await fs.mkdtemp(join(tmpdir(), `shoal-ct-${tag}-`));
  const prefix = `10.${160 + randomInt(40)}.${randomInt(256)}`;
  const config: DaemonConfig = {
    dataRoot: join(base, 'data'),
    execRoot: join(base, 'run'),
    listeners: [],
    logLevel: 'warn',
    runtime: opts.runtime ?? 'crun',
    bridge: { name: `sct${tag}`, cidr: `${prefix}.1/24` },
    cgroupParent: `/shoal-ct-${tag}`,
    nodeName: `ct-${tag}`,
  };
  const resolvConfPath = join(base, 'host-resolv.conf');
  await fs.writeFile(resolvConfPath, 'nameserver 127.0.0.1\n');
  const events = new EventBus();
  const images = await ImageStore.open({ root: join(config.dataRoot, 'image'), events });
  const busyboxId = await images.importRootfs(Readable.from([await busyboxRootfs()]), { repo: 'busybox', tag: 'latest' });
  const volumes = await VolumeStore.open({ root: join(config.dataRoot, 'volumes'), events });
  const networks = await NetworkManager.open({ config, root: join(config.dataRoot, 'network'), events, resolvConfPath, dnsUpstreams: [] });
  const open = () => ContainerManager.open({ config, images, networking: networks, volumes, events });
  const stack: Stack = {
    base,
    config,
    events,
    images,
    volumes,
    networks,
    cm: await open(),
    busyboxId,
    async reopen() {
      await stack.cm.close();
      stack.cm = await open();
      return stack.cm;
    },
    async destroy() {
      try {
        for (const c of await stack.cm.list({ all: true })) await stack.cm.remove(c.Id as string, { force: true, volumes: true }).catch(() => undefined);
        await stack.cm.close();
      } finally {
        await networks.purge(true).catch(() => undefined);
        const left = (await readMountInfo()).filter((m) => m.mountPoint.startsWith(base));
        for (const m of left.reverse()) await import('../../../shared/exec').then(({ run }) => run('umount', ['-l', m.mountPoint]).catch(() => undefined));
        await fs.rm(base, { recursive: true, force: true });
        await cgroups.removeCgroupIfEmpty(config.cgroupParent);
        if (left.length) throw new Error(`mounts left behind: ${left.map((m) => m.mountPoint).join(', ')}`);
        const dirs = (await cgroups.cgroupDirs(config.cgroupParent)).filter(({ dir }) => existsSync(dir));
        if (dirs.length) throw new Error(`cgroups left behind: ${dirs.map((d) => d.dir).join(', ')}`);
      }
    },
  };
  return stack;
}

function existsSync(p: string): boolean {
  try {
    require('node:fs').statSync(p);
    return true;
  } catch {
    return false;
  }
}

/** Collect a session's output as text per stream (and the order it came in). */
export async function collect(session: AttachSession): Promise<{ stdout: string; stderr: string; all: string }> {
  let stdout = '';
  let stderr = '';
  let all = '';
  for await (const c of session.output()) {
    const t = c.data.toString();
    if (c.stream === 1) stdout += t;
    else stderr += t;
    all += t;
  }
  return { stdout, stderr, all };
}

/** Create + attach + start + wait, as `docker run` does; returns output and exit code. */
export async function runContainer(cm: ContainerManager, body: Record<string, unknown>, opts: { name?: string; stdin?: string } = {}): Promise<{ id: string; code: number; stdout: string; stderr: string }> {
  const { Id } = await cm.create({ Image: 'busybox', AttachStdout: true, AttachStderr: true, ...body }, { name: opts.name });
  const session = await cm.attach(Id, { stdin: opts.stdin !== undefined, stdout: true, stderr: true, logs: false, stream: true });
  const waiting = cm.wait(Id, 'next-exit');
  const out = collect(session);
  await cm.start(Id);
  if (opts.stdin !== undefined) {
    await session.write(Buffer.from(opts.stdin));
    session.closeStdin();
  }
  const [o, w] = await Promise.all([out, waiting]);
  return { id: Id, code: w.StatusCode, stdout: o.stdout, stderr: o.stderr };
}

export async function eventually(check: () => Promise<boolean> | boolean, ms = 10_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}
