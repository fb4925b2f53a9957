import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { ApiServer } from '../../shared/api';
import { logger } from '../../shared/log';
import { Engine } from '../engine/engine';
import { engineRouter } from '../api';
import { Membership, registerSwarmRoutes, swarmDir } from '../../manager/membership';
import { TASK_ID_LABEL } from '../agent/tasks/config';
import { removeAllTaskFiles } from '../agent/secrets';
import { registerControlRoutes, type ControlContext } from '../../manager/api';
import { clusterNetworks } from '../../manager/networks';
import { BusLogSource } from '../../manager/logs/bus-logs';
import { newSwarmId } from '../../manager/ca/ids';
import type { DaemonConfig } from './config';

/** shoald: the engine behind the Docker Engine API. */
export class Daemon {
  private server?: ApiServer;
  private engine?: Engine;
  private membership?: Membership;
  private readonly log = logger('daemon');

  constructor(readonly config: DaemonConfig) {}

  async start(): Promise<void> {
    const pidFile = join(this.config.execRoot, 'shoald.pid');
    this.engine = await Engine.open(this.config);
    await fs.writeFile(pidFile, String(process.pid));
    const engine = this.engine;
    this.membership = new Membership({
      dataRoot: this.config.dataRoot,
      nodeName: this.config.nodeName,
      startAgent: async (state, m) => {
        const { Agent } = await import('../agent/agent');
        const agent = new Agent({
          engine,
          nodeId: state.nodeId,
          nodeName: this.config.nodeName,
          stateDir: swarmDir(this.config.dataRoot),
          managers: state.managers,
          advertiseAddr: state.advertiseAddr,
          // Promotion and demotion reach a node as a certificate for its new role.
          onCertificateRenewed: async (r) => {
            if (r.trustChanged) await m.trustChanged();
            void m.certifiedRole(r.role);
          },
          onManagers: (addrs) => void m.managersSeen(addrs),
        });
        await agent.start();
        return agent;
      },
      // Leaving takes the swarm's tasks with it, as in Docker.
      afterLeave: async () => {
        for (const c of await engine.containers.list({ all: true, filters: new Map([['label', [TASK_ID_LABEL]]]) })) await engine.containers.remove(c.Id as string, { force: true }).catch(() => undefined);
        // Their secrets' and configs' tmpfs mounts go with them.
        await removeAllTaskFiles(this.config.execRoot);
        // Plain containers on the swarm's attachable networks are taken off them.
        for (const { containerId, networkId } of engine.networks.swarmAttachments().values()) {
          const net = await engine.networks.disconnect(containerId, networkId, true).catch(() => undefined);
          if (net) await engine.containers.networksChanged(containerId, net).catch(() => undefined);
        }
        await engine.networks.leaveSwarmNetworks();
      },
    });
    const membership = this.membership;
    // The control API reads the manager of the moment: init, join and leave change it.
    const control: ControlContext = {
      get store() {
        return membership.manager().store;
      },
      role: () => membership.role(),
      nodeId: () => membership.nodeId,
      logs: new BusLogSource(
        () => membership.manager().bus,
        () => membership.manager().store,
      ),
      events: engine.events,
      dataKey: () => membership.manager().dataKey,
      managerStatus: (n) => membership.manager().managerStatus(n),
      readWarning: () => membership.manager().readWarning(),
      // A promoted node joins the Raft group itself once its certificate names it a manager.
      promote: async () => undefined,
      demote: async (n) => membership.manager().checkRemoval(n.ID, `demote node ${n.ID}`),
      newId: newSwarmId,
      now: () => new Date(),
    };
    const router = engineRouter(engine, { info: async () => ({ ...(await engine.info()), Swarm: await membership.info() }), clusterNetworks: clusterNetworks(control) });
    registerSwarmRoutes(router, membership);
    registerControlRoutes(router, control);
    await membership.open();
    this.server = new ApiServer(router, logger('api'));
    await this.server.listen(this.config.listeners);
    this.log.info({ dataRoot: this.config.dataRoot, execRoot: this.config.execRoot, runtime: this.config.runtime }, 'shoald ready');
  }

  async stop(): Promise<void> {
    await this.server?.close();
    await this.membership?.close();
    await this.engine?.close();
    await fs.rm(join(this.config.execRoot, 'shoald.pid'), { force: true });
    this.log.info('shoald stopped');
  }
}
