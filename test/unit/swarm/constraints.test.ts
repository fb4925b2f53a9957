import assert from 'node:assert/strict';
import { failedConstraint, matchConstraint, nodeAttribute, nodeMatchesConstraints, parseConstraint, parseConstraints, type Node } from '../../../shared/swarm';

const node: Node = {
  ID: 'n1abc',
  Spec: { Role: 'worker', Availability: 'active', Labels: { zone: 'east', Tier: 'Gold' } },
  Description: {
    Hostname: 'host-1',
    Platform: { OS: 'linux', Architecture: 'x86_64' },
    Engine: { EngineVersion: '1', Labels: { storage: 'ssd' } },
  },
  Status: { State: 'ready', Addr: '10.0.1.7' },
};

describe('constraint parsing', () => {
  const good: Array<[string, string, string, string]> = [
    ['node.role==manager', 'node.role', '==', 'manager'],
    ['node.hostname != host-2', 'node.hostname', '!=', 'host-2'],
    ['node.labels.zone==east', 'node.labels.zone', '==', 'east'],
    ['engine.labels.storage==ssd', 'engine.labels.storage', '==', 'ssd'],
    ['node.platform.os==linux', 'node.platform.os', '==', 'linux'],
    ['node.platform.arch==x86_64', 'node.platform.arch', '==', 'x86_64'],
    ['node.id==n1abc', 'node.id', '==', 'n1abc'],
    ['node.ip==10.0.0.0/16', 'node.ip', '==', '10.0.0.0/16'],
    ['NODE.ROLE==worker', 'NODE.ROLE', '==', 'worker'],
  ];
  for (const [expr, key, op, value] of good) {
    it(`parses ${expr}`, () => {
      const c = parseConstraint(expr);
      assert.deepEqual([c.key, c.op, c.value], [key, op, value]);
    });
  }

  const bad: Array<[string, RegExp]> = [
    ['node.role=manager', /has no operator/],
    ['node.role', /has no operator/],
    ['==manager', /has no key/],
    ['node.role==', /has no value/],
    ['node.color==blue', /key 'node.color' is not supported \(expected one of node.id/],
    ['node.labels.==x', /lacks a label name/],
    ['engine.labels==x', /is not supported/],
    ['node.labels.a==b==c', /value 'b==c' has characters/],
    ['node.ip==not-an-ip', /node.ip needs an IP address or CIDR/],
  ];
  for (const [expr, message] of bad) it(`rejects ${JSON.stringify(expr)}`, () => assert.throws(() => parseConstraint(expr), message));
});

describe('constraint matching', () => {
  const table: Array<[string, boolean]> = [
    ['node.role==worker', true],
    ['node.role==manager', false],
    ['node.role!=manager', true],
    ['node.hostname==HOST-1', true], // values compare case-insensitively
    ['node.id==n1abc', true],
    ['node.labels.zone==east', true],
    ['node.labels.zone!=east', false],
    ['node.labels.tier==gold', false], // label names are case-sensitive
    ['node.labels.Tier==gold', true],
    ['node.labels.missing==x', false], // absent label: == fails
    ['node.labels.missing!=x', true], // ... and != passes
    ['engine.labels.storage==ssd', true],
    ['node.platform.os==linux', true],
    ['node.platform.arch==aarch64', false],
    ['node.ip==10.0.1.7', true],
    ['node.ip==10.0.0.0/16', true],
    ['node.ip==10.1.0.0/16', false],
    ['node.ip!=10.1.0.0/16', true],
  ];
  for (const [expr, want] of table) it(`${expr} -> ${want}`, () => assert.equal(matchConstraint(parseConstraint(expr), node), want));

  it('needs every constraint (AND) and names the first that fails', () => {
    const cs = parseConstraints(['node.role==worker', 'node.labels.zone==west', 'node.platform.os==linux']);
    assert.equal(nodeMatchesConstraints(cs, node), false);
    assert.equal(failedConstraint(cs, node)?.expr, 'node.labels.zone==west');
    assert.equal(nodeMatchesConstraints(parseConstraints(undefined), node), true);
  });

  it('reads a manager role from ManagerStatus when the spec has none', () => {
    assert.equal(nodeAttribute({ ID: 'm', Spec: {}, ManagerStatus: { Leader: true } }, 'node.role'), 'manager');
    assert.equal(nodeAttribute({ ID: 'w', Spec: {} }, 'node.role'), 'worker');
  });
});
