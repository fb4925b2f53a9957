import assert from 'node:assert/strict';
import { Constraint, parseConstraints, nodeMatches, validatePlacement } from '../../../manager/scheduler';
import { isShoalError } from '../../../shared/errors';
import { node } from './fixtures';

describe('scheduler constraint parsing', () => {
  const good: Array<[string, string, string, string]> = [
    ['node.role==manager', 'node.role', '==', 'manager'],
    ['node.hostname != node-2', 'node.hostname', '!=', 'node-2'],
    ['  node.labels.zone  ==  east ', 'node.labels.zone', '==', 'east'],
    ['Node.Labels.Zone==east', 'Node.Labels.Zone', '==', 'east'],
    ['engine.labels.operatingsystem==ubuntu-24.04', 'engine.labels.operatingsystem', '==', 'ubuntu-24.04'],
    ['node.platform.arch==x86_64', 'node.platform.arch', '==', 'x86_64'],
    ['node.ip==10.0.0.0/8', 'node.ip', '==', '10.0.0.0/8'],
    ['node.labels.path==/srv/data', 'node.labels.path', '==', '/srv/data'],
  ];
  for (const [expr, key, op, value] of good) {
    it(`parses ${JSON.stringify(expr)}`, () => {
      const c = Constraint.parse(expr);
      assert.deepEqual([c.key, c.op, c.value], [key, op, value]);
    });
  }

  const bad: Array<[string, RegExp]> = [
    ['node.role', /expected a key, an operator \(== or !=\) and a value/],
    ['node.role=manager', /expected a key, an operator/],
    ['==manager', /missing key/],
    ['node.role==', /missing value/],
    ['node.role==  ', /missing value/],
    ['node.labels==x', /unknown key "node.labels"/],
    ['node.labels.==x', /unknown key/],
    ['node.name==x', /unknown key "node.name"/],
    ['node.role==a==b', /value "a==b" has an operator character/],
    ['node.role!==manager', /value "=manager" has an operator character/],
    ['node.role>=1', /expected a key, an operator/],
    ['node role==manager', /invalid key "node role"/],
    ['node.ip==10.0.0.300', /"10.0.0.300" is not an IP address or CIDR/],
    ['node.ip==10.0.0.0/33', /not an IP address or CIDR/],
    ['node.ip==fe80::/129', /not an IP address or CIDR/],
  ];
  for (const [expr, why] of bad) {
    it(`rejects ${JSON.stringify(expr)} naming it`, () => {
      assert.throws(
        () => parseConstraints(['node.role==worker', expr]),
        (e) => isShoalError(e, 'INVALID_ARGUMENT') && e.message.startsWith(`invalid constraint ${JSON.stringify(expr)}: `) && why.test(e.message),
      );
    });
  }
});

describe('scheduler constraint matching', () => {
  const n = node('n1abc', {
    role: 'manager',
    hostname: 'Web-1',
    os: 'linux',
    arch: 'aarch64',
    labels: { zone: 'East', Disk: 'ssd' },
    engineLabels: { os: 'debian' },
    addr: '10.1.2.3',
  });
  const cases: Array<[string, boolean]> = [
    ['node.id==n1abc', true],
    ['node.id==N1ABC', true],
    ['node.id!=n1abc', false],
    ['node.hostname==web-1', true],
    ['node.hostname!=web-2', true],
    ['node.role==manager', true],
    ['node.role==worker', false],
    ['node.platform.os==Linux', true],
    ['node.platform.arch==aarch64', true],
    ['node.platform.arch!=x86_64', true],
    ['node.labels.zone==east', true],
    ['NODE.LABELS.zone==east', true],
    ['node.labels.Zone==east', false], // label names are case-sensitive: Zone is missing
    ['node.labels.Disk==SSD', true],
    ['node.labels.rack==r1', false], // a missing label never equals
    ['node.labels.rack!=r1', true], // and always differs
    ['node.labels.toString==x', false], // not an own property
    ['engine.labels.os==debian', true],
    ['engine.labels.os!=debian', false],
    ['engine.labels.zone==east', false],
    ['node.ip==10.1.2.3', true],
    ['node.ip==10.1.0.0/16', true],
    ['node.ip!=10.1.0.0/16', false],
    ['node.ip==192.168.0.0/16', false],
    ['node.ip==fd00::/8', false],
  ];
  for (const [expr, want] of cases) it(`${expr} -> ${want}`, () => assert.equal(nodeMatches(parseConstraints([expr]), n), want));

  it('ANDs several constraints', () => {
    assert.equal(nodeMatches(parseConstraints(['node.role==manager', 'node.labels.zone==east']), n), true);
    assert.equal(nodeMatches(parseConstraints(['node.role==manager', 'node.labels.zone==west']), n), false);
  });

  it('treats a node without a role as a worker and without a hostname as having none', () => {
    const bare = { ID: 'bare' };
    assert.equal(nodeMatches(parseConstraints(['node.role==worker']), bare), true);
    assert.equal(nodeMatches(parseConstraints(['node.hostname==bare']), bare), false);
    assert.equal(nodeMatches(parseConstraints(['node.hostname!=x', 'node.ip!=10.0.0.1']), bare), true);
  });
});

describe('scheduler placement validation', () => {
  it('accepts label spreads, constraints and a max', () => {
    validatePlacement({ Constraints: ['node.role==worker'], Preferences: [{ Spread: { SpreadDescriptor: 'node.labels.dc' } }, { Spread: { SpreadDescriptor: 'engine.labels.rack' } }], MaxReplicas: 2 });
    validatePlacement(undefined);
  });
  const bad: Array<[object, RegExp]> = [
    [{ Constraints: ['oops'] }, /invalid constraint "oops"/],
    [{ Preferences: [{ Spread: { SpreadDescriptor: 'node.hostname' } }] }, /invalid placement preference "node.hostname": spread takes node.labels/],
    [{ Preferences: [{}] }, /invalid placement preference ""/],
    [{ MaxReplicas: -1 }, /invalid MaxReplicas -1/],
  ];
  for (const [placement, why] of bad) {
    it(`rejects ${JSON.stringify(placement)}`, () => assert.throws(() => validatePlacement(placement), (e) => isShoalError(e, 'INVALID_ARGUMENT') && why.test(e.message)));
  }
});
