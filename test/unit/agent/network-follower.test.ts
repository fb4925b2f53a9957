// The agent's follower of swarm networks: updates of one network may finish joining out of
// order; the newest peers must be the last ones programmed.
import assert from 'node:assert/strict';
import { SwarmNetworkFollower } from '../../../worker/agent/session/networks';
import type { NetworkPeer } from '../../../shared/swarm';
import { silenceLogging } from '../../../shared/log';

if (!process.env.SHOAL_TEST_LOG) silenceLogging();

const ingress = (peers: NetworkPeer[]) => ({
  ID: 'ing',
  Spec: { Name: 'ingress', Ingress: true },
  DriverState: { Options: { 'com.docker.network.driver.overlay.vxlanid_list': '4097' } },
  IPAMOptions: { Configs: [{ Subnet: '10.0.0.0/24', Gateway: '10.0.0.1' }] },
  Peers: peers,
});

describe('agent/networks: the swarm network follower', () => {
  it('programs the newest peers last when an older update finishes joining after a newer one', async () => {
    const programmed: string[] = [];
    let first = true;
    let releaseFirst!: () => void;
    const host = {
      // The first join creates the network and is slow; later ones find it made.
      ensureSwarmNetwork: () => (first ? ((first = false), new Promise<void>((r) => (releaseFirst = r))) : Promise.resolve()),
      setSwarmPeers: async (_id: string, peers: readonly NetworkPeer[]) => {
        programmed.push(peers.map((p) => `${p.IP}:${p.Running}`).join(','));
      },
      releaseSwarmNetwork: async () => true,
      swarmNetworks: () => ['ing'],
    };
    const ac = new AbortController();
    const f = new SwarmNetworkFollower(host, '192.0.2.1', ac.signal);
    f.apply([ingress([{ IP: '10.0.0.5', Node: 'a', Running: false }])], []);
    f.apply([ingress([{ IP: '10.0.0.5', Node: 'a', Running: true }])], []);
    await new Promise((r) => setImmediate(r));
    releaseFirst();
    await new Promise((r) => setImmediate(r));
    ac.abort();
    assert.ok(programmed.length >= 1);
    assert.equal(programmed.at(-1), '10.0.0.5:true', `programmed in order: ${programmed.join(' | ')}`);
  });
});
