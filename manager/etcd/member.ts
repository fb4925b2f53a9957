// One etcd member run as a supervised child of the manager.
import { promises as fs } from 'node:fs';
import type { Etcd3 } from 'etcd3';
import { Supervisor } from '../../shared/supervisor';
import { createEtcdClient, deadline, type EtcdClientOptions, type EtcdClientTls } from './client';
import { etcdArgs, type EtcdMemberConfig } from './config';
import { translateEtcdError } from './errors';

export const ETCD_BINARY = '/usr/bin/etcd';

export interface EtcdMemberRunOptions {
  binary?: string;
  /** Give up on a member not answering by then (default 60 s: a member of a new cluster waits for its peers). */
  readyTimeoutMs?: number;
  stopGraceMs?: number;
}

export interface EtcdStatus {
  memberId: string;
  leaderId: string;
  raftTerm: number;
  revision: number;
  version: string;
  dbSize: number;
}

export class EtcdMember {
  readonly supervisor: Supervisor;
  private probeClient_?: Etcd3;

  /**
   * @param clientTls the certificate clients of this member present (with TLS on, etcd admits
   *   no client without one); set it before start()
   */
  constructor(
    readonly config: EtcdMemberConfig,
    opts: EtcdMemberRunOptions = {},
    public clientTls?: EtcdClientTls,
  ) {
    this.supervisor = new Supervisor({
      name: 'etcd',
      command: opts.binary ?? ETCD_BINARY,
      args: etcdArgs(config),
      stateDir: config.stateDir,
      // A manager is its daemon and its store member together: when one dies, so does the other.
      dieWithParent: true,
      probe: async () => {
        await this.probeClient.maintenance.status(deadline(1000));
        return true;
      },
      readyTimeoutMs: opts.readyTimeoutMs ?? 60_000,
      stopGraceMs: opts.stopGraceMs ?? 5000,
    });
  }

  /** Client URLs to reach this member with. */
  get endpoints(): string[] {
    return this.config.advertiseClientUrls;
  }

  // Probe this member alone: a cluster client could be answered by another member.
  private get probeClient(): Etcd3 {
    this.probeClient_ ??= createEtcdClient([this.localEndpoint()], { callTimeoutMs: 1000, tls: this.clientTls });
    return this.probeClient_;
  }

  get pid(): number | undefined {
    return this.supervisor.pid;
  }

  /** Start (or keep running) the member; resolves when its client endpoint answers. */
  async start(signal?: AbortSignal): Promise<void> {
    await fs.mkdir(this.config.dataDir, { recursive: true, mode: 0o700 });
    await this.supervisor.start(signal);
  }

  async stop(): Promise<void> {
    await this.supervisor.stop();
    this.probeClient_?.close();
  }

  /** A new client for this member's endpoints; the caller closes it. */
  client(opts?: EtcdClientOptions): Etcd3 {
    return createEtcdClient(this.endpoints, { tls: this.clientTls, ...opts });
  }

  /** The member's own view of the cluster. */
  async status(): Promise<EtcdStatus> {
    try {
      const s = await this.probeClient.maintenance.status(deadline(1000));
      return {
        memberId: s.header.member_id,
        leaderId: s.leader,
        raftTerm: Number(s.raftTerm),
        revision: Number(s.header.revision),
        version: s.version,
        dbSize: Number(s.dbSize),
      };
    } catch (e) {
      throw translateEtcdError(e, `etcd member ${this.config.name} status`);
    }
  }

  /** The client URL to probe: a listen URL on a wildcard address is reached over loopback. */
  private localEndpoint(): string {
    const u = new URL(this.config.listenClientUrls[0]);
    if (u.hostname === '0.0.0.0') u.hostname = '127.0.0.1';
    if (u.hostname === '[::]') u.hostname = '[::1]';
    return u.origin;
  }
}
