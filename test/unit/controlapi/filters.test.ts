import assert from 'node:assert/strict';
import { nodeFilter, serviceFilter, taskFilter, taskName, labelMap, matchLabels } from '../../../manager/api';
import { filters, node, service, task, refused } from './fixtures';


describe('control API filters', () => {
  describe('labels', () => {
    it('"k" needs the label, "k=v" its value; all must hold', () => {
      const wanted = labelMap(['zone', 'tier=web']);
      assert.equal(matchLabels({ zone: 'a', tier: 'web' }, wanted), true);
      assert.equal(matchLabels({ zone: '', tier: 'web' }, wanted), true);
      assert.equal(matchLabels({ tier: 'web' }, wanted), false);
      assert.equal(matchLabels({ zone: 'a', tier: 'db' }, wanted), false);
      assert.equal(matchLabels(undefined, new Map()), true);
      assert.deepEqual([...labelMap(['a=b=c'])], [['a', 'b=c']]);
    });
  });

  describe('nodes', () => {
    const nodes = [
      node('n1abc', 'alpha', { role: 'manager', labels: { zone: 'east' }, engineLabels: { ssd: 'yes' } }),
      node('n2abd', 'beta', { labels: { zone: 'west' } }),
      node('x3', 'alphabet', { state: 'down' }),
    ];
    const ids = (f: Record<string, string[]>) => nodes.filter(nodeFilter(filters(f))).map((n) => n.ID);

    it('name is a hostname prefix, id an ID prefix; values of one key are alternatives', () => {
      assert.deepEqual(ids({ name: ['alpha'] }), ['n1abc', 'x3']);
      assert.deepEqual(ids({ name: ['beta', 'alphab'] }), ['n2abd', 'x3']);
      assert.deepEqual(ids({ id: ['n2'] }), ['n2abd']);
      assert.deepEqual(ids({ id: ['n'], name: ['alpha'] }), ['n1abc'], 'different keys must all match');
    });

    it('role (any case), node.label on the spec, label on the engine, membership accepted', () => {
      assert.deepEqual(ids({ role: ['manager'] }), ['n1abc']);
      assert.deepEqual(ids({ role: ['WORKER'] }), ['n2abd', 'x3']);
      assert.deepEqual(ids({ 'node.label': ['zone=west'] }), ['n2abd']);
      assert.deepEqual(ids({ 'node.label': ['zone'] }), ['n1abc', 'n2abd']);
      assert.deepEqual(ids({ label: ['ssd'] }), ['n1abc']);
      assert.deepEqual(ids({ membership: ['accepted'] }), ['n1abc', 'n2abd', 'x3']);
      assert.deepEqual(ids({ membership: ['pending'] }), []);
      assert.deepEqual(ids({ role: [''] }), ['n1abc', 'n2abd', 'x3'], 'an empty value is ignored');
    });

    it('refuses unknown keys and values with dockerd\'s messages', () => {
      assert.throws(() => nodeFilter(filters({ colour: ['x'] })), refused(400, "invalid filter 'colour'"));
      assert.throws(() => nodeFilter(filters({ role: ['boss'] })), refused(400, "Invalid role filter: 'boss'"));
      assert.throws(() => nodeFilter(filters({ membership: ['maybe'] })), refused(400, "Invalid membership filter: 'maybe'"));
    });
  });

  describe('services', () => {
    const web = service('s1web', 'web', { Replicated: { Replicas: 2 } }, { Labels: { tier: 'front' } });
    const webapi = service('s2api', 'webapi', { Global: {} });
    const job = service('s3job', 'batch', { ReplicatedJob: {} });
    const all = [web, webapi, job];
    const ids = (f: Record<string, string[]>) => all.filter(serviceFilter(filters(f))).map((s) => s.ID);

    it('name and id are prefixes, label as for nodes, mode exact', () => {
      assert.deepEqual(ids({ name: ['web'] }), ['s1web', 's2api']);
      assert.deepEqual(ids({ id: ['s3'] }), ['s3job']);
      assert.deepEqual(ids({ label: ['tier=front'] }), ['s1web']);
      assert.deepEqual(ids({ mode: ['global'] }), ['s2api']);
      assert.deepEqual(ids({ mode: ['replicated', 'replicated-job'] }), ['s1web', 's3job']);
      assert.deepEqual(ids({ runtime: ['container'] }), ['s1web', 's2api', 's3job']);
    });

    it('refuses an unknown key', () => {
      assert.throws(() => serviceFilter(filters({ image: ['busybox'] })), refused(400, "invalid filter 'image'"));
    });
  });

  describe('tasks', () => {
    const web = service('s1web', 'web', { Replicated: { Replicas: 2 } }, { Labels: { tier: 'front' } });
    const glob = service('s2glob', 'agent', { Global: {} });
    const nodes = [node('n1', 'alpha'), node('n2', 'beta')];
    const tasks = [
      task('t1', web, { slot: 1, node: 'n1' }),
      task('t2', web, { slot: 2, node: 'n2', desired: 'shutdown', state: 'shutdown' }),
      task('t10', web, { slot: 10, node: 'n2' }),
      task('g1', glob, { node: 'n1' }),
    ];
    const world = { services: [web, glob], nodes };
    const ids = (f: Record<string, string[]>) => tasks.filter(taskFilter(filters(f), world)).map((t) => t.ID);

    it('names a task svc.slot.id, or svc.node.id for a global one', () => {
      assert.equal(taskName(tasks[0], 'web'), 'web.1.t1');
      assert.equal(taskName(tasks[3], 'agent'), 'agent.n1.g1');
      assert.equal(taskName({ ...tasks[0], Name: 'given' }, 'web'), 'given');
    });

    it('name is a prefix of the task name (so web.1 also matches web.10, as in Docker)', () => {
      assert.deepEqual(ids({ name: ['web.1'] }), ['t1', 't10']);
      assert.deepEqual(ids({ name: ['web.1.t1'] }), ['t1']);
      assert.deepEqual(ids({ name: ['agent'] }), ['g1']);
    });

    it('service and node take an ID, a name or a unique prefix', () => {
      assert.deepEqual(ids({ service: ['web'] }), ['t1', 't2', 't10']);
      assert.deepEqual(ids({ service: ['s2'] }), ['g1']);
      assert.deepEqual(ids({ node: ['beta'] }), ['t2', 't10']);
      assert.deepEqual(ids({ node: ['n1'], service: ['s1web'] }), ['t1']);
    });

    it('desired-state, label (the service\'s), id', () => {
      assert.deepEqual(ids({ 'desired-state': ['running'] }), ['t1', 't10', 'g1']);
      assert.deepEqual(ids({ 'desired-state': ['Shutdown', 'accepted'] }), ['t2']);
      assert.deepEqual(ids({ label: ['tier=front'] }), ['t1', 't2', 't10']);
      assert.deepEqual(ids({ id: ['t1'] }), ['t1', 't10']);
    });

    it('_up-to-date keeps tasks that run the current template', () => {
      const changed = { ...web, Spec: { ...web.Spec, TaskTemplate: { ...web.Spec.TaskTemplate, ForceUpdate: 1 } } };
      const fresh = { ...task('t3', changed, { slot: 1, node: 'n1' }) };
      const w = { services: [changed, glob], nodes };
      assert.deepEqual([...tasks, fresh].filter(taskFilter(filters({ '_up-to-date': ['true'], service: ['web'] }), w)).map((t) => t.ID), ['t3']);
    });

    it('refuses unknown keys, states, services and nodes', () => {
      assert.throws(() => taskFilter(filters({ image: ['x'] }), world), refused(400, "invalid filter 'image'"));
      assert.throws(() => taskFilter(filters({ 'desired-state': ['sleeping'] }), world), refused(400, "Invalid desired-state filter: 'sleeping'"));
      assert.throws(() => taskFilter(filters({ service: ['nope'] }), world), refused(404, 'service nope not found'));
      assert.throws(() => taskFilter(filters({ node: ['gamma'] }), world), refused(404, 'node gamma not found'));
      assert.throws(() => taskFilter(filters({ node: ['n'] }), world), refused(400, 'node n is ambiguous (2 matches found)'));
    });
  });
});
