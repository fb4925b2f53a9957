import assert from 'node:assert/strict';
import { isShoalError } from '../../../shared/errors';
import { AssignedPayloads, bindsFor, planTaskFiles, targetPath, tmpfsSize } from '../../../worker/agent/secrets';
import type { AgentTask } from '../../../worker/agent/tasks';
import type { ContainerSpec } from '../../../shared/swarm';

const data = (s: string) => Buffer.from(s).toString('base64');

function task(c: Partial<ContainerSpec>): AgentTask {
  return { ID: 't1', ServiceID: 's', Spec: { ContainerSpec: { Image: 'busybox', ...c } }, Status: { State: 'preparing' }, DesiredState: 'running' };
}

function source(): AssignedPayloads {
  const p = new AssignedPayloads();
  p.setAll([{ ID: 'sec1', Spec: { Name: 'db', Data: data('pw') } }], [{ ID: 'cfg1', Spec: { Name: 'app.conf', Data: data('x=1\n') } }]);
  return p;
}

describe('worker secrets: planning a task\'s files', () => {
  it('secrets under /run/secrets, configs under /, absolute targets as given, with uid/gid/mode', () => {
    const files = planTaskFiles(
      task({
        Secrets: [
          { SecretID: 'sec1', SecretName: 'db', File: { Name: 'db', UID: '0', GID: '0', Mode: 0o444 } },
          { SecretID: 'sec1', SecretName: 'db', File: { Name: '/etc/db.pw', UID: '1000', GID: '33', Mode: 0o400 } },
        ],
        Configs: [
          { ConfigID: 'cfg1', ConfigName: 'app.conf', File: { Name: 'app.conf', UID: '5', GID: '6', Mode: 0o640 } },
          { ConfigID: 'cfg1', ConfigName: 'app.conf', Runtime: {} },
        ],
      }),
      source(),
    );
    assert.deepEqual(
      files.map((f) => [f.kind, f.target, f.data.toString(), f.uid, f.gid, f.mode.toString(8)]),
      [
        ['secret', '/run/secrets/db', 'pw', 0, 0, '444'],
        ['secret', '/etc/db.pw', 'pw', 1000, 33, '400'],
        ['config', '/app.conf', 'x=1\n', 5, 6, '640'],
      ],
    );
    assert.equal(new Set(files.map((f) => f.hostName)).size, 3);
    assert.deepEqual(bindsFor('/run/shoal/secrets/t1', files.slice(0, 1)), [{ Type: 'bind', Source: `/run/shoal/secrets/t1/${files[0].hostName}`, Target: '/run/secrets/db', ReadOnly: true }]);
  });

  it('defaults: the object\'s name as target, root, mode 0444', () => {
    const [f] = planTaskFiles(task({ Secrets: [{ SecretID: 'sec1', SecretName: 'db', File: {} }] }), source());
    assert.deepEqual([f.target, f.uid, f.gid, f.mode], ['/run/secrets/db', 0, 0, 0o444]);
    assert.deepEqual(planTaskFiles(task({}), source()), []);
  });

  it('a secret or config the node was not sent, bad IDs or modes, and clashing targets fail the task', () => {
    const invalid = (re: RegExp) => (e: unknown) => isShoalError(e, 'INVALID_ARGUMENT') && re.test((e as Error).message);
    assert.throws(() => planTaskFiles(task({ Secrets: [{ SecretID: 'nope', SecretName: 'gone', File: { Name: 'gone' } }] }), source()), invalid(/secret gone \(nope\) was not sent to this node/));
    assert.throws(() => planTaskFiles(task({ Configs: [{ ConfigID: 'nope', ConfigName: 'c', File: { Name: 'c' } }] }), source()), invalid(/config c \(nope\) was not sent/));
    assert.throws(() => planTaskFiles(task({ Secrets: [{ SecretID: 'sec1', SecretName: 'db', File: { Name: 'db', UID: 'www' } }] }), source()), invalid(/File.UID "www" must be a numeric ID/));
    assert.throws(() => planTaskFiles(task({ Secrets: [{ SecretID: 'sec1', SecretName: 'db', File: { Name: 'db', Mode: 0o10000 } }] }), source()), invalid(/not a file mode/));
    assert.throws(
      () => planTaskFiles(task({ Secrets: [{ SecretID: 'sec1', SecretName: 'db', File: { Name: '/app.conf' } }], Configs: [{ ConfigID: 'cfg1', ConfigName: 'app.conf', File: { Name: 'app.conf' } }] }), source()),
      invalid(/secret db and config app.conf have the same target \/app.conf/),
    );
  });

  it('targets are normalized; a directory is not a target', () => {
    assert.equal(targetPath('secret', 'a/../b'), '/run/secrets/b');
    assert.equal(targetPath('config', 'etc/x'), '/etc/x');
    assert.throws(() => targetPath('config', '/'), /names a directory/);
    assert.throws(() => targetPath('secret', 'dir/'), /names a directory/);
  });

  it('changes replace and remove what the node holds', () => {
    const p = source();
    p.apply({ secrets: [{ ID: 'sec1', Spec: { Name: 'db', Data: data('new') } }], configs: [] }, { secrets: [], configs: ['cfg1'] });
    assert.equal(Buffer.from(p.secret('sec1')!.Spec!.Data!, 'base64').toString(), 'new');
    assert.equal(p.config('cfg1'), undefined);
  });

  it('the tmpfs is sized in whole pages per file, with room to spare', () => {
    const files = planTaskFiles(task({ Secrets: [{ SecretID: 'sec1', SecretName: 'db', File: { Name: 'db' } }] }), source());
    assert.equal(tmpfsSize(files), 3 * 4096);
  });
});
