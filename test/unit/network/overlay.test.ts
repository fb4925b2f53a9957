import assert from 'node:assert/strict';
import { overlayDevices, peerCommands, vxlanCommands, VXLAN_PORT } from '../../../worker/network/overlay';

describe('network/overlay: vxlan device and peer entries', () => {
  it('names devices by VNI and creates the vxlan without learning, answering ARP itself', () => {
    assert.deepEqual(overlayDevices(4097), { bridge: 'ov4097', vxlan: 'vx4097' });
    assert.deepEqual(vxlanCommands({ vni: 4097, local: '192.0.2.1', mtu: 1450, exists: false }), [
      `link add vx4097 type vxlan id 4097 dstport ${VXLAN_PORT} local 192.0.2.1 nolearning proxy`,
      'link set vx4097 master ov4097 mtu 1450',
      'link set ov4097 mtu 1450',
      'link set vx4097 up',
    ]);
    assert.equal(vxlanCommands({ vni: 4097, local: '192.0.2.1', mtu: 1450, exists: true }).length, 3, 'an existing device is only set up');
  });

  it('programs remote peers only, replaces what moved and removes what left', () => {
    const peers = [
      { IP: '10.0.1.3', Node: '192.0.2.1' }, // this node: nothing to program
      { IP: '10.0.1.4', Node: '192.0.2.2' },
      { IP: '10.0.1.5', Node: '192.0.2.3' },
    ];
    const have = {
      fdb: new Map([
        ['02:42:0a:00:01:04', '192.0.2.2'], // already right
        ['02:42:0a:00:01:05', '192.0.2.9'], // moved
        ['02:42:0a:00:01:09', '192.0.2.2'], // gone
      ]),
      neigh: new Map([
        ['10.0.1.4', '02:42:0a:00:01:04'],
        ['10.0.1.9', '02:42:0a:00:01:09'],
      ]),
    };
    const cmds = peerCommands('vx4097', peers, '192.0.2.1', have);
    assert.deepEqual(cmds.bridge, ['fdb replace 02:42:0a:00:01:05 dev vx4097 dst 192.0.2.3 self permanent', 'fdb del 02:42:0a:00:01:09 dev vx4097 self']);
    assert.deepEqual(cmds.ip, ['neigh replace 10.0.1.5 lladdr 02:42:0a:00:01:05 dev vx4097 nud permanent', 'neigh del 10.0.1.9 dev vx4097']);
    const done = { fdb: new Map([['02:42:0a:00:01:04', '192.0.2.2'], ['02:42:0a:00:01:05', '192.0.2.3']]), neigh: new Map([['10.0.1.4', '02:42:0a:00:01:04'], ['10.0.1.5', '02:42:0a:00:01:05']]) };
    assert.deepEqual(peerCommands('vx4097', peers, '192.0.2.1', done), { bridge: [], ip: [] }, 'nothing to do when programmed');
  });
});
