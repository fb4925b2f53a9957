import assert from 'node:assert/strict';
import { clusterNames } from '../../../worker/network/dns/cluster';

describe('network/dns: names of a swarm network from its peers', () => {
  it('answers the service and its aliases with the VIP, tasks.<service> with running tasks only; dnsrr with the tasks', () => {
    const { names, reverse } = clusterNames([
      { IP: '10.0.1.3', Node: 'a', Task: 't1', Service: 'Web', Aliases: ['www'], VIP: '10.0.1.2', Running: true },
      { IP: '10.0.1.4', Node: 'b', Task: 't2', Service: 'Web', Aliases: ['www'], VIP: '10.0.1.2', Running: false },
      { IP: '10.0.1.5', Node: 'b', Task: 't3', Service: 'api', Running: true },
      { IP: '10.0.1.6', Node: 'a', Task: 't4', Service: 'api', Running: true },
      { IP: '10.0.1.7', Node: 'a', Running: true }, // no service: only routed, never named
    ]);
    assert.deepEqual(names.get('web'), ['10.0.1.2']);
    assert.deepEqual(names.get('www'), ['10.0.1.2']);
    assert.deepEqual(names.get('tasks.web'), ['10.0.1.3'], 'a task not yet running is not answered');
    assert.deepEqual(names.get('api'), ['10.0.1.5', '10.0.1.6'], 'dnsrr: the running tasks');
    assert.deepEqual(names.get('tasks.api'), ['10.0.1.5', '10.0.1.6']);
    assert.equal(reverse.get('10.0.1.5'), 'api.t3');
    assert.equal(names.size, 5);
  });

  it('answers a plain container attached to the network by its name and aliases while it runs', () => {
    const { names, reverse } = clusterNames([
      { IP: '10.0.1.8', Node: 'a', Task: 'att1', Aliases: ['Peer', 'p', 'abc123def456'], Running: true },
      { IP: '10.0.1.9', Node: 'b', Task: 'att2', Aliases: ['later'], Running: false },
    ]);
    assert.deepEqual(names.get('peer'), ['10.0.1.8']);
    assert.deepEqual(names.get('abc123def456'), ['10.0.1.8']);
    assert.equal(names.get('later'), undefined, 'not yet running');
    assert.equal(reverse.get('10.0.1.8'), 'Peer');
    assert.equal(names.size, 3);
  });
});
