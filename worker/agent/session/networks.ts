// The swarm networks the dispatcher says this node's tasks use, with their Peers: each one's
// VXLAN entries follow the peers; a network no longer in the set is left once no container
// here uses it (its tasks' containers may still be going, so it is checked again later).
import { errorMessage } from '../../../shared/errors';
import { logger } from '../../../shared/log';
import type { AssignedObject } from './executor';
import { swarmNetworkDef, type SwarmNetworkHost } from '../tasks/networking';
import type { NetworkPeer } from '../../../shared/swarm';

const log = logger('agent-networks');

/** The part of the network manager this drives. */
export interface SwarmNetworkPeers extends SwarmNetworkHost {
  setSwarmPeers(id: string, peers: readonly NetworkPeer[], local: string): Promise<void>;
  releaseSwarmNetwork(id: string): Promise<boolean>;
  swarmNetworks(): string[];
}

/** How often networks no longer wanted are looked at again. */
const RECHECK_MS = 2000;

export class SwarmNetworkFollower {
  private wanted = new Set<string>();
  /** The newest peers the dispatcher sent for each network. */
  private readonly latest = new Map<string, readonly NetworkPeer[]>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly host: SwarmNetworkPeers,
    private readonly local: string,
    signal: AbortSignal,
  ) {
    signal.addEventListener('abort', () => clearTimeout(this.timer), { once: true });
  }

  /** The complete set. */
  setAll(networks: AssignedObject[]): void {
    this.wanted = new Set(networks.map((n) => n.ID));
    for (const id of [...this.latest.keys()]) if (!this.wanted.has(id)) this.latest.delete(id);
    for (const n of networks) this.program(n);
    this.leaveUnwanted();
  }

  apply(updated: AssignedObject[], removed: string[]): void {
    for (const n of updated) {
      this.wanted.add(n.ID);
      this.program(n);
    }
    for (const id of removed) {
      this.wanted.delete(id);
      this.latest.delete(id);
    }
    if (removed.length) this.leaveUnwanted();
  }

  private program(n: AssignedObject): void {
    this.latest.set(n.ID, Array.isArray(n.Peers) ? (n.Peers as NetworkPeer[]) : []);
    // The routing mesh's network is on every node, tasks or not: join it before its peers.
    const join = (n as { Spec?: { Ingress?: boolean } }).Spec?.Ingress ? this.host.ensureSwarmNetwork(swarmNetworkDef(n, this.local)) : Promise.resolve();
    // Joins of one network can finish out of order (the first one creates it); each then sets
    // the newest peers, so an older update never has the last word.
    join
      .then(() => {
        const peers = this.latest.get(n.ID);
        return peers && this.host.setSwarmPeers(n.ID, peers, this.local);
      })
      .catch((e) => log.warn({ network: n.ID, err: errorMessage(e) }, 'cannot program the overlay peers'));
  }

  private leaveUnwanted(): void {
    clearTimeout(this.timer);
    const stale = this.host.swarmNetworks().filter((id) => !this.wanted.has(id));
    if (!stale.length) return;
    void Promise.all(stale.map((id) => this.host.releaseSwarmNetwork(id).catch((e) => (log.warn({ network: id, err: errorMessage(e) }, 'cannot leave the overlay network'), false)))).then((left) => {
      if (left.some((x) => !x)) {
        this.timer = setTimeout(() => this.leaveUnwanted(), RECHECK_MS);
        this.timer.unref();
      }
    });
  }
}
