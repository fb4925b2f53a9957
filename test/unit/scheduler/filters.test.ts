import assert from 'node:assert/strict';
import { NodeInfo, defaultFilters, type NodeView, type TaskView } from '../../../manager/scheduler';
import { node, task, GiB, type NodeOpts, type TaskOpts } from './fixtures';

/** A node info holding `held` (tasks already running there). */
function infoOf(n: NodeView, held: TaskView[] = []): NodeInfo {
  const info = new NodeInfo(n);
  for (const t of held) info.put({ ...t, NodeID: n.ID, Status: { State: 'running' } });
  return info;
}

interface Case {
  name: string;
  node?: NodeOpts;
  held?: TaskOpts[];
  task?: TaskOpts;
  want: boolean;
}

const table: Array<{ filter: string; explain: Array<[number, string]>; applies: Array<[TaskOpts, boolean]>; cases: Case[] }> = [
  {
    filter: 'ready',
    explain: [[1, '1 node not available for new tasks'], [3, '3 nodes not available for new tasks']],
    applies: [[{}, true]],
    cases: [
      { name: 'ready node', want: true },
      { name: 'down node', node: { state: 'down' }, want: false },
      { name: 'disconnected node', node: { state: 'disconnected' }, want: false },
      { name: 'unknown node', node: { state: 'unknown' }, want: false },
    ],
  },
  {
    filter: 'availability',
    explain: [[1, '1 node not available for new tasks'], [2, '2 nodes not available for new tasks']],
    applies: [[{}, true]],
    cases: [
      { name: 'active node', want: true },
      { name: 'paused node', node: { availability: 'pause' }, want: false },
      { name: 'drained node', node: { availability: 'drain' }, want: false },
    ],
  },
  {
    filter: 'resources',
    explain: [[1, 'insufficient resources on 1 node'], [4, 'insufficient resources on 4 nodes']],
    applies: [[{}, false], [{ cpus: 1 }, true], [{ memory: 1 }, true], [{ generic: { gpu: 1 } }, true]],
    cases: [
      { name: 'no reservations on a full node', held: [{ cpus: 4, memory: 8 * GiB }], want: true },
      { name: 'exact fit', task: { cpus: 4, memory: 8 * GiB }, want: true },
      { name: 'too much CPU', task: { cpus: 5 }, want: false },
      { name: 'too much memory', task: { memory: 9 * GiB }, want: false },
      { name: 'CPU taken by held tasks', held: [{ cpus: 3 }], task: { cpus: 2 }, want: false },
      { name: 'what held tasks left fits', held: [{ cpus: 3, memory: 4 * GiB }], task: { cpus: 1, memory: 4 * GiB }, want: true },
      { name: 'generic resource present', node: { generic: { gpu: 2 } }, task: { generic: { gpu: 2 } }, want: true },
      { name: 'generic resource short', node: { generic: { gpu: 2 } }, held: [{ generic: { gpu: 1 } }], task: { generic: { gpu: 2 } }, want: false },
      { name: 'generic resource absent', task: { generic: { gpu: 1 } }, want: false },
    ],
  },
  {
    filter: 'constraints',
    explain: [[1, 'scheduling constraints not satisfied on 1 node'], [5, 'scheduling constraints not satisfied on 5 nodes']],
    applies: [[{}, false], [{ constraints: [] }, false], [{ constraints: ['node.role==worker'] }, true]],
    cases: [
      { name: 'no constraints', want: true },
      { name: 'matching label', node: { labels: { zone: 'a' } }, task: { constraints: ['node.labels.zone==a'] }, want: true },
      { name: 'other label value', node: { labels: { zone: 'b' } }, task: { constraints: ['node.labels.zone==a'] }, want: false },
      { name: 'role mismatch', task: { constraints: ['node.role==manager'] }, want: false },
      { name: 'one of two fails', node: { role: 'manager' }, task: { constraints: ['node.role==manager', 'node.hostname!=n'] }, want: false },
    ],
  },
  {
    filter: 'platform',
    explain: [[1, 'unsupported platform on 1 node'], [2, 'unsupported platform on 2 nodes']],
    applies: [[{}, false], [{ platforms: [{ OS: 'linux' }] }, true]],
    cases: [
      { name: 'no platforms asked', node: { os: 'windows' }, want: true },
      { name: 'same platform', task: { platforms: [{ OS: 'linux', Architecture: 'x86_64' }] }, want: true },
      { name: 'amd64 image on an x86_64 node', task: { platforms: [{ OS: 'linux', Architecture: 'amd64' }] }, want: true },
      { name: 'arm64 image on an aarch64 node', node: { arch: 'aarch64' }, task: { platforms: [{ OS: 'linux', Architecture: 'arm64' }] }, want: true },
      { name: 'any of several', task: { platforms: [{ OS: 'windows' }, { Architecture: 'amd64' }] }, want: true },
      { name: 'wrong architecture', task: { platforms: [{ OS: 'linux', Architecture: 'arm64' }] }, want: false },
      { name: 'wrong OS', task: { platforms: [{ OS: 'windows', Architecture: 'amd64' }] }, want: false },
    ],
  },
  {
    filter: 'hostports',
    explain: [[1, 'host-mode port already in use on 1 node'], [2, 'host-mode port already in use on 2 nodes']],
    applies: [[{}, false], [{ hostPorts: ['80'] }, true]],
    cases: [
      { name: 'free port', task: { hostPorts: ['80'] }, want: true },
      { name: 'port taken', held: [{ service: 'other', hostPorts: ['80'] }], task: { hostPorts: ['80'] }, want: false },
      { name: 'same port, other protocol', held: [{ hostPorts: ['53/udp'] }], task: { hostPorts: ['53/tcp'] }, want: true },
      { name: 'one of two taken', held: [{ hostPorts: ['443'] }], task: { hostPorts: ['80', '443'] }, want: false },
      { name: 'no ports asked on a busy node', held: [{ hostPorts: ['80'] }], want: true },
    ],
  },
  {
    filter: 'maxreplicas',
    explain: [[1, 'max replicas per node limit exceed'], [2, 'max replicas per node limit exceed']],
    applies: [[{}, false], [{ maxReplicas: 0 }, false], [{ maxReplicas: 2 }, true]],
    cases: [
      { name: 'below the limit', held: [{}], task: { maxReplicas: 2 }, want: true },
      { name: 'at the limit', held: [{}, {}], task: { maxReplicas: 2 }, want: false },
      { name: 'other services do not count', held: [{ service: 'x' }, { service: 'y' }], task: { maxReplicas: 1 }, want: true },
      { name: 'tasks desired to stop do not count', held: [{ desired: 'shutdown' }], task: { maxReplicas: 1 }, want: true },
      { name: 'no limit', held: [{}, {}, {}], task: {}, want: true },
    ],
  },
];

describe('scheduler filters', () => {
  it('run in swarm order: availability, resources, constraints, platform, ports, max replicas', () => {
    assert.deepEqual(defaultFilters.map((f) => f.name), table.map((t) => t.filter));
  });
  for (const { filter: name, explain, applies, cases } of table) {
    const filter = defaultFilters.find((f) => f.name === name)!;
    describe(name, () => {
      for (const c of cases) {
        it(`${c.name}: ${c.want ? 'passes' : 'fails'}`, () => {
          const info = infoOf(node('n', c.node), (c.held ?? []).map((h, i) => task(`held${i}`, h)));
          assert.equal(filter.check(task('t', c.task), info), c.want);
        });
      }
      it('explains failures with the node count', () => {
        for (const [count, text] of explain) assert.equal(filter.explain(count), text);
      });
      it('knows which tasks it concerns', () => {
        for (const [opts, want] of applies) assert.equal(filter.appliesTo(task('t', opts)), want, JSON.stringify(opts));
      });
    });
  }
});
