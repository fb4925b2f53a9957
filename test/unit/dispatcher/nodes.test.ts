import assert from 'node:assert/strict';
import { downNode, parseDescription, peerHost, readyNode } from '../../../manager/dispatcher';
import { isShoalError } from '../../../shared/errors';
import type { Node } from '../../../shared/swarm';

describe('dispatcher: node description and status', () => {
  it('keeps the NodeDescription fields an agent reports and drops the rest', () => {
    const d = parseDescription(
      JSON.stringify({
        Hostname: 'w1',
        Platform: { Architecture: 'x86_64', OS: 'linux' },
        Resources: { NanoCPUs: 2e9, MemoryBytes: 4096, Other: 1 },
        Engine: { EngineVersion: '0.1.0', Labels: { zone: 'a' }, Plugins: [{ Type: 'Network', Name: 'overlay' }] },
        Status: { State: 'down' },
      }),
    );
    assert.deepEqual(d, {
      Hostname: 'w1',
      Platform: { Architecture: 'x86_64', OS: 'linux' },
      Resources: { NanoCPUs: 2e9, MemoryBytes: 4096 },
      Engine: { EngineVersion: '0.1.0', Labels: { zone: 'a' }, Plugins: [{ Type: 'Network', Name: 'overlay' }] },
    });
    assert.deepEqual(parseDescription(''), {});
  });

  const bad: Array<[string, RegExp]> = [
    ['[1]', /^description must be a NodeDescription object/],
    ['{', /^description is not JSON/],
    ['{"Hostname":3}', /^description\.Hostname must be a string/],
    ['{"Resources":{"NanoCPUs":-1}}', /^description\.Resources\.NanoCPUs must be a non-negative number/],
    ['{"Engine":{"Labels":{"a":1}}}', /^description\.Engine\.Labels\.a must be a string/],
  ];
  for (const [json, re] of bad) it(`refuses ${json}, naming the field`, () => assert.throws(() => parseDescription(json), (e: unknown) => isShoalError(e, 'INVALID_ARGUMENT') && re.test(e.message)));

  it('takes the host out of a grpc-js peer address', () => {
    assert.equal(peerHost('10.0.0.5:45678'), '10.0.0.5');
    assert.equal(peerHost('ipv4:10.0.0.5:45678'), '10.0.0.5');
    assert.equal(peerHost('[fd00::1]:2377'), 'fd00::1');
    assert.equal(peerHost('[::ffff:127.0.0.1]:2377'), '127.0.0.1');
    // What a grpc-js server reports for an IPv6 peer: no brackets.
    assert.equal(peerHost('::1:53112'), '::1');
    assert.equal(peerHost('fd00::5:2377'), 'fd00::5');
    assert.equal(peerHost('::ffff:10.0.0.5:2377'), '10.0.0.5');
  });

  const node: Node = { ID: 'n1', Version: { Index: 4 }, Spec: { Role: 'worker', Availability: 'active' }, Description: { Hostname: 'old', TLSInfo: { TrustRoot: 'pem' } }, Status: { State: 'down', Message: 'heartbeat failure', Addr: '10.0.0.5' } };

  it('a new session makes the node READY at its address with the reported description (TLS info kept)', () => {
    const n = readyNode(node, { Hostname: 'w1' }, '10.0.0.6');
    assert.deepEqual(n?.Status, { State: 'ready', Addr: '10.0.0.6' });
    assert.deepEqual(n?.Description, { Hostname: 'w1', TLSInfo: { TrustRoot: 'pem' } });
    assert.equal(n?.Version?.Index, 4);
    assert.equal(readyNode(n!, { Hostname: 'w1' }, '10.0.0.6'), undefined, 'nothing to write when nothing changed');
  });

  it('a lost node goes DOWN with the reason and keeps its address', () => {
    const up = readyNode(node, {}, '10.0.0.5')!;
    assert.deepEqual(downNode(up, 'heartbeat failure')?.Status, { State: 'down', Message: 'heartbeat failure', Addr: '10.0.0.5' });
    assert.equal(downNode(node, 'heartbeat failure'), undefined);
  });
});
