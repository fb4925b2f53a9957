// A multi-host lab for tests and benchmarks: the same library as deploy/lab, in-process.
// Each lab gets a random name (so its subnet, bridge and roots never meet a user's lab); take
// it down in after().
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { EngineClient } from '../../shared/client';
import { isShoalError } from '../../shared/errors';
import { Lab, type ExecResult, type HostRole, type UpOptions } from '../../deploy/multihost';
import { docker, type CliResult } from './docker';

/** Lab.up's options; the name defaults to "t" and 6 random hex digits here. */
export type LabOptions = Omit<UpOptions, 'log'>;

export interface LabHost {
  name: string;
  role: Exclude<HostRole, 'registry'>;
  address: string;
  /** shoald's unix socket path, and the same as unix:// for -H / DOCKER_HOST. */
  socket: string;
  host: string;
  /** A client of this host's shoald (renewed by start()). */
  client: EngineClient;
}

export interface TestLab {
  name: string;
  subnet: string;
  /** shoald hosts: m1..mM then w1..wW. */
  hosts: LabHost[];
  /** "<reg address>:5000" with registry: true. */
  registry?: string;
  /** The library object, for what this helper does not wrap. */
  lab: Lab;
  host(name: string): LabHost;
  /** Run a command in the host's network namespace with DOCKER_HOST set; never throws on exit status. */
  exec(host: string, cmd: string[], opts?: { input?: string | Buffer; timeoutMs?: number }): Promise<ExecResult>;
  /** The stock docker CLI against the host's shoald (from the root namespace). */
  docker(host: string, args: string[], opts?: { input?: string | Buffer; timeoutMs?: number }): Promise<CliResult>;
  /** SIGKILL the host's shoald (reg: the registry). */
  kill(host: string): Promise<void>;
  /** Start it again on the same roots. */
  start(host: string): Promise<void>;
  cut(host: string): Promise<void>;
  heal(host: string): Promise<void>;
  /** The end of the host's daemon log, for failure messages. */
  logs(host: string, lines?: number): Promise<string>;
  /** Tear everything down; safe to call twice. */
  down(): Promise<void>;
}

export async function startLab(opts: LabOptions = {}): Promise<TestLab> {
  const name = opts.name ?? `t${randomBytes(3).toString('hex')}`;
  const lab = await Lab.up({ ...opts, name, logLevel: opts.logLevel ?? process.env.SHOAL_TEST_LOG });
  const hosts: LabHost[] = lab.hosts
    .filter((h) => h.role !== 'registry' && h.socket)
    .map((h) => ({ name: h.name, role: h.role as LabHost['role'], address: h.address, socket: h.socket!, host: `unix://${h.socket}`, client: new EngineClient(`unix://${h.socket}`) }));
  const t: TestLab = {
    name,
    subnet: lab.subnet,
    hosts,
    registry: lab.registry,
    lab,
    host(n) {
      const h = hosts.find((x) => x.name === n);
      if (!h) throw new Error(`lab ${name} has no shoald host '${n}' (hosts: ${hosts.map((x) => x.name).join(', ')})`);
      return h;
    },
    exec: (host, cmd, o) => lab.exec(host, cmd, o),
    docker: (host, args, o) => docker(t.host(host).host, args, o),
    async kill(host) {
      await lab.kill(host);
    },
    async start(host) {
      await lab.start(host);
      // Connections kept alive to the killed daemon are dead: start afresh.
      const h = hosts.find((x) => x.name === host);
      if (h) {
        h.client.close();
        h.client = new EngineClient(h.host);
      }
    },
    cut: (host) => lab.cut(host),
    heal: (host) => lab.heal(host),
    async logs(host, lines = 40) {
      const text = await fs.readFile(lab.host(host).log, 'utf8').catch(() => '');
      return text.trimEnd().split('\n').slice(-lines).join('\n');
    },
    async down() {
      for (const h of hosts) h.client.close();
      await Lab.down(name).catch((e) => {
        if (!isShoalError(e, 'NOT_FOUND')) throw e;
      });
    },
  };
  return t;
}
