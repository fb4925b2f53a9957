import assert from 'node:assert/strict';
import { assignmentSet, completeChanges, diffAssignments, inNodeSet, taskDependencies, type DependencySource } from '../../../manager/dispatcher';
import type { StoredObject } from '../../../manager/store';
import type { TaskState } from '../../../shared/swarm';
import { task } from './fixtures';

const objects = (...ids: string[]) => new Map<string, StoredObject>(ids.map((id) => [id, { ID: id, Spec: { Name: `name-${id}` }, Version: { Index: 3 } }]));

function deps(o: { networks?: string[]; secrets?: string[]; configs?: string[] } = {}): DependencySource {
  const n = objects(...(o.networks ?? []));
  const s = objects(...(o.secrets ?? []));
  const c = objects(...(o.configs ?? []));
  return { network: (id) => n.get(id), secret: (id) => s.get(id), config: (id) => c.get(id) };
}

/** [action, kind, ID] of each change. */
function summary(changes: ReturnType<typeof diffAssignments>): Array<[string, string, string]> {
  return changes.map((c) => {
    const kind = (['task', 'network', 'secret', 'config'] as const).find((k) => c[k] !== undefined)!;
    return [c.action, kind, JSON.parse(c[kind]!).ID];
  });
}

describe('dispatcher: a node\'s assignment set', () => {
  const cases: Array<[string, ReturnType<typeof task>, boolean]> = [
    ['assigned to the node', task('t', 'n1', 'assigned'), true],
    ['running on the node', task('t', 'n1', 'running'), true],
    ['finished on the node (its container is kept until the task is deleted)', task('t', 'n1', 'complete'), true],
    ['failed on the node', task('t', 'n1', 'failed'), true],
    ['to be removed (the node must stop it)', task('t', 'n1', 'running', { DesiredState: 'remove' }), true],
    ['pending with a NodeID (global service, not yet through the scheduler)', task('t', 'n1', 'pending'), false],
    ['new', task('t', 'n1', 'new'), false],
    ['on another node', task('t', 'n2', 'running'), false],
    ['unassigned', task('t', undefined, 'pending'), false],
    ['with a state the store should never hold', task('t', 'n1', 'bogus' as TaskState), false],
  ];
  for (const [what, t, want] of cases) {
    it(`${want ? 'holds' : 'leaves out'} a task ${what}`, () => assert.equal(inNodeSet(t, 'n1'), want));
  }

  it('names the networks, secrets and configs a live task uses, and nothing once it has ended', () => {
    const t = task('t', 'n1', 'running', {
      NetworksAttachments: [{ Network: { ID: 'net1' } }, { Network: { ID: 'net2' } }],
      Spec: {
        Networks: [{ Target: 'net2' }, { Target: 'net3' }],
        ContainerSpec: { Image: 'busybox', Secrets: [{ SecretID: 's1' }, { SecretID: 's1' }], Configs: [{ ConfigID: 'c1' }] },
      },
    });
    assert.deepEqual(taskDependencies(t), { networks: ['net1', 'net2', 'net3'], secrets: ['s1'], configs: ['c1'] });
    assert.deepEqual(taskDependencies({ ...t, Status: { State: 'shutdown' } }), { networks: [], secrets: [], configs: [] });
  });

  it('a COMPLETE set holds the node\'s tasks and the existing objects they use, dependencies first', () => {
    const tasks = [
      task('t1', 'n1', 'running', { Spec: { ContainerSpec: { Image: 'busybox', Secrets: [{ SecretID: 's1' }, { SecretID: 'gone' }] }, Networks: [{ Target: 'net1' }] } }),
      task('t2', 'n1', 'complete', { Spec: { ContainerSpec: { Image: 'busybox', Configs: [{ ConfigID: 'c-only-t2' }] } } }),
      task('t3', 'n2', 'running', { Spec: { ContainerSpec: { Image: 'busybox', Configs: [{ ConfigID: 'c1' }] } } }),
    ];
    const set = assignmentSet('n1', tasks, deps({ networks: ['net1'], secrets: ['s1'], configs: ['c1', 'c-only-t2'] }));
    assert.deepEqual(summary(completeChanges(set)), [
      ['UPDATE', 'network', 'net1'],
      ['UPDATE', 'secret', 's1'],
      ['UPDATE', 'task', 't1'],
      ['UPDATE', 'task', 't2'],
    ]);
    const sent = JSON.parse(completeChanges(set).find((c) => c.task)!.task!);
    assert.deepEqual(sent, tasks[0], 'a task travels whole, status and version included');
  });

  describe('changes between two sets', () => {
    const d = deps({ secrets: ['s1', 's2'] });
    const before = [task('t1', 'n1', 'assigned'), task('t2', 'n1', 'running'), task('t3', 'n1', 'running')];
    const prev = assignmentSet('n1', before, d);
    const diff = (after: ReturnType<typeof task>[]) => summary(diffAssignments(prev, assignmentSet('n1', after, d)));

    it('the worker\'s own status reports are not echoed back', () => {
      assert.deepEqual(diff([{ ...before[0], Status: { State: 'running', Message: 'started' }, Version: { Index: 9 }, UpdatedAt: 'later' }, before[1], before[2]]), []);
    });

    it('a desired state or spec change is an UPDATE', () => {
      assert.deepEqual(diff([{ ...before[0], DesiredState: 'shutdown' }, { ...before[1], Spec: { ContainerSpec: { Image: 'busybox:2' } } }, before[2]]), [
        ['UPDATE', 'task', 't1'],
        ['UPDATE', 'task', 't2'],
      ]);
    });

    it('the same object written with its keys in another order is no change', () => {
      const t = before[1];
      const reordered = { DesiredState: t.DesiredState, Spec: t.Spec, Status: t.Status, NodeID: t.NodeID, Slot: t.Slot, ServiceID: t.ServiceID, ID: t.ID, Version: t.Version };
      assert.deepEqual(diff([before[0], reordered, before[2]]), []);
    });

    it('a deleted task, or one that is no longer this node\'s, is a REMOVE carrying only its ID', () => {
      const changes = diffAssignments(prev, assignmentSet('n1', [before[0], { ...before[2], NodeID: 'n9' }], d));
      assert.deepEqual(summary(changes), [
        ['REMOVE', 'task', 't2'],
        ['REMOVE', 'task', 't3'],
      ]);
      assert.deepEqual(JSON.parse(changes[0].task!), { ID: 't2' });
    });

    it('a task that reaches ASSIGNED enters the set', () => {
      const p = assignmentSet('n1', [task('t9', 'n1', 'pending')], d);
      assert.deepEqual(summary(diffAssignments(p, assignmentSet('n1', [task('t9', 'n1', 'assigned')], d))), [['UPDATE', 'task', 't9']]);
    });

    it('a secret comes with its first user and goes after its last one ends, after the task changes', () => {
      const withSecret = task('t4', 'n1', 'assigned', { Spec: { ContainerSpec: { Image: 'busybox', Secrets: [{ SecretID: 's2' }] } } });
      const p = assignmentSet('n1', before, d);
      const mid = assignmentSet('n1', [...before, withSecret], d);
      assert.deepEqual(summary(diffAssignments(p, mid)), [
        ['UPDATE', 'secret', 's2'],
        ['UPDATE', 'task', 't4'],
      ]);
      const ended = assignmentSet('n1', before.concat({ ...withSecret, Status: { State: 'failed' } }), d);
      assert.deepEqual(summary(diffAssignments(mid, ended)), [['REMOVE', 'secret', 's2']]);
      assert.deepEqual(summary(diffAssignments(ended, assignmentSet('n1', before, d))), [['REMOVE', 'task', 't4']]);
    });
  });
});
