// Test environment for networking: a NetworkManager on private roots with random device names and
// subnets, network namespaces standing in for containers and for another host, busybox servers.
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes, randomInt } from 'node:crypto';
import http from 'node:http';
import { run } from '../../../shared/exec';
import { EventBus } from '../../../shared/events';
import type { DaemonConfig } from '../../../worker/daemon/config';
import type { NetworkSetupRequest } from '../../../worker/engine/contracts';
import { NetworkManager, type NetworkManagerOptions } from '../../../worker/network';

export const BUSYBOX = '/usr/bin/busybox';

/** A random 10.x.y.0/24 block outside the ranges the daemon test helper uses (10.200-249). */
export function randomSubnet24(): { prefix: string; cidr: string } {
  const prefix = `10.${100 + randomInt(60)}.${randomInt(256)}`;
  return { prefix, cidr: `${prefix}.0/24` };
}

export interface NetEnv {
  tag: string;
  base: string;
  config: DaemonConfig;
  events: EventBus;
  opts: NetworkManagerOptions;
  bridgePrefix: string; // "10.x.y" of the default bridge
  procs: ChildProcess[];
  netns: string[]; // named netns (ip netns) made by the test
  links: string[]; // host links made by the test
  cleanup(): Promise<void>;
}

export async function makeEnv(extra: Partial<NetworkManagerOptions> = {}): Promise<NetEnv> {
  const tag = randomBytes(3).toString('hex');
  const base = await fs.mkdtemp(join(tmpdir(), `shoal-net-${tag}-`));
  const { prefix } = randomSubnet24();
  const config: DaemonConfig = {
    dataRoot: join(base, 'data'),
    execRoot: join(base, 'run'),
    listeners: [],
    logLevel: 'warn',
    runtime: 'crun',
    bridge: { name: `snt${tag}`, cidr: `${prefix}.1/24` },
    cgroupParent: `/shoal-net-${tag}`,
    nodeName: `n-${tag}`,
  };
  const resolvConfPath = join(base, 'resolv.conf');
  await fs.writeFile(resolvConfPath, 'nameserver 127.0.0.1\nsearch\n');
  const events = new EventBus();
  const env: NetEnv = {
    tag,
    base,
    config,
    events,
    bridgePrefix: prefix,
    opts: { config, root: join(config.dataRoot, 'network'), events, resolvConfPath, dnsUpstreams: [], ...extra },
    procs: [],
    netns: [],
    links: [],
    async cleanup() {
      for (const p of env.procs) if (p.exitCode === null && p.signalCode === null && p.pid) process.kill(p.pid, 'SIGKILL');
      for (const l of env.links) await run('ip', ['link', 'del', l], { okCodes: [0, 1] });
      for (const n of env.netns) await run('ip', ['netns', 'del', n], { okCodes: [0, 1] });
      await fs.rm(base, { recursive: true, force: true });
    },
  };
  return env;
}

export function request(id: string, over: Partial<NetworkSetupRequest> = {}): NetworkSetupRequest {
  return {
    containerId: id,
    name: `c-${id.slice(0, 6)}`,
    hostname: id.slice(0, 12),
    networkMode: 'default',
    endpointsConfig: {},
    portBindings: {},
    publishAll: false,
    exposedPorts: [],
    dns: [],
    dnsSearch: [],
    dnsOptions: [],
    extraHosts: [],
    ...over,
  };
}

export const cid = () => randomBytes(32).toString('hex');

/** Run a command inside a namespace file (async: the DNS server lives in this process). */
export async function inNs(nsPath: string, args: string[], okCodes = [0]): Promise<string> {
  const r = await run('nsenter', [`--net=${nsPath}`, ...args], { okCodes });
  return r.stdout;
}

/** Serve `text` over HTTP on port 80 inside a namespace with busybox httpd; returns when it answers. */
export async function startHttpd(env: NetEnv, nsPath: string, text: string): Promise<void> {
  await startHttpdIn(env, ['nsenter', `--net=${nsPath}`], text);
}

/** The same, with a command prefix that enters the namespace (nsenter ..., ip netns exec ...). */
export async function startHttpdIn(env: NetEnv, enter: string[], text: string): Promise<void> {
  const dir = await fs.mkdtemp(join(env.base, 'www-'));
  await fs.writeFile(join(dir, 'index.html'), text);
  const p = spawn(enter[0], [...enter.slice(1), BUSYBOX, 'httpd', '-f', '-p', '80', '-h', dir], { stdio: 'ignore' });
  env.procs.push(p);
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const r = await run(enter[0], [...enter.slice(1), 'timeout', '2', BUSYBOX, 'wget', '-q', '-O', '-', 'http://127.0.0.1/'], { okCodes: [0, 1, 124] });
    if (r.stdout.includes(text)) return;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error('httpd did not come up');
}

export function httpGet(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path: '/', timeout: 3000, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout reaching ${host}:${port}`)));
    req.on('error', reject);
  });
}

/**
 * Another host: a named netns on a veth link to this one (10.x.y.1 here, .2 there) and no other
 * route, so it can answer containers only when their traffic is masqueraded to 10.x.y.1.
 */
export async function makePeerHost(env: NetEnv): Promise<{ ns: string; hostAddr: string; peerAddr: string }> {
  const ns = `shoaltest-${env.tag}`;
  const hostLink = `spa${env.tag}`;
  const { prefix } = randomSubnet24();
  await run('ip', ['netns', 'add', ns]);
  env.netns.push(ns);
  await run('ip', ['link', 'add', hostLink, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
  env.links.push(hostLink);
  await run('ip', ['-batch', '-'], { input: `addr add ${prefix}.1/30 dev ${hostLink}\nlink set ${hostLink} up\n` });
  await run('ip', ['-n', ns, '-batch', '-'], { input: `link set lo up\naddr add ${prefix}.2/30 dev eth0\nlink set eth0 up\n` });
  return { ns, hostAddr: `${prefix}.1`, peerAddr: `${prefix}.2` };
}

export async function linkExists(name: string): Promise<boolean> {
  const r = await run('ip', ['link', 'show', 'dev', name], { okCodes: [0, 1] });
  return r.code === 0;
}

/** Wait until `check` holds (for the kernel's background namespace cleanup); false after `ms`. */
export async function eventually(check: () => Promise<boolean>, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function isMounted(path: string): Promise<boolean> {
  const text = await fs.readFile('/proc/self/mountinfo', 'utf8');
  return text.split('\n').some((l) => l.split(' ')[4] === path);
}

export async function nftTable(table: string): Promise<string | undefined> {
  const r = await run('nft', ['list', 'table', 'ip', table], { okCodes: [0, 1] });
  return r.code === 0 ? r.stdout : undefined;
}

export async function open(env: NetEnv): Promise<NetworkManager> {
  return NetworkManager.open(env.opts);
}
