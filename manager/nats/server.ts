// One nats-server run as a supervised child of the manager; ready when a client connects.
import { promises as fs } from 'node:fs';
import { dirname } from 'node:path';
import { connect } from 'nats';
import { writeFileAtomic } from '../../shared/fsutil';
import { Supervisor } from '../../shared/supervisor';
import { natsClientUrl, renderNatsConfig, type NatsServerConfig } from './config';

export const NATS_BINARY = '/usr/sbin/nats-server';

export interface NatsServerRunOptions {
  binary?: string;
  readyTimeoutMs?: number;
  stopGraceMs?: number;
}

export class NatsServer {
  readonly supervisor: Supervisor;

  constructor(
    readonly config: NatsServerConfig,
    opts: NatsServerRunOptions = {},
  ) {
    this.supervisor = new Supervisor({
      name: 'nats',
      command: opts.binary ?? NATS_BINARY,
      args: ['-c', config.configFile],
      stateDir: config.stateDir,
      // A manager is its daemon and its store member together: when one dies, so does the other.
      dieWithParent: true,
      probe: async () => {
        const tls = config.tls && { certFile: config.tls.certFile, keyFile: config.tls.keyFile, caFile: config.tls.caFile, checkServerIdentity: () => undefined };
        // The probe asks only whether this server serves; who it is, the certificate checks of real clients say.
        const nc = await connect({ servers: this.url, token: config.token, timeout: 1000, reconnect: false, ignoreClusterUpdates: true, ...(tls ? { tls } : {}) });
        await nc.close();
        return true;
      },
      readyTimeoutMs: opts.readyTimeoutMs ?? 30_000,
      stopGraceMs: opts.stopGraceMs ?? 5000,
    });
  }

  /** The URL local clients connect to. */
  get url(): string {
    return natsClientUrl(this.config);
  }

  get pid(): number | undefined {
    return this.supervisor.pid;
  }

  /** Write the config file (it holds the token: mode 0600) and start; resolves when clients can connect. */
  async start(signal?: AbortSignal): Promise<void> {
    await fs.mkdir(dirname(this.config.configFile), { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.config.configFile, renderNatsConfig(this.config), 0o600);
    await this.supervisor.start(signal);
  }

  /** Make the server read its config and certificate files again (after a renewal). */
  reload(): boolean {
    return this.supervisor.signal('SIGHUP');
  }

  async stop(): Promise<void> {
    await this.supervisor.stop();
  }
}
