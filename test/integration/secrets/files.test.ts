import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../../shared/exec';
import { TaskFileStore, removeAllTaskFiles, type TaskFile } from '../../../worker/agent/secrets';

const file = (hostName: string, data: string, over: Partial<TaskFile> = {}): TaskFile => ({ kind: 'secret', name: hostName, hostName, target: `/run/secrets/${hostName}`, data: Buffer.from(data), uid: 0, gid: 0, mode: 0o444, ...over });

async function isMounted(dir: string): Promise<boolean> {
  return (await fs.readFile('/proc/self/mountinfo', 'utf8')).split('\n').some((l) => l.split(' ')[4] === dir);
}

describe('worker secrets: a task\'s files on its own tmpfs (real mounts)', () => {
  let base: string;
  let store: TaskFileStore;

  beforeEach(async () => {
    base = await fs.mkdtemp(join(tmpdir(), 'shoal-secrets-'));
    store = new TaskFileStore(join(base, 'secrets'));
  });
  afterEach(async () => {
    for (const id of await store.taskIds()) {
      if (await isMounted(store.dir(id))) await run('umount', ['-l', store.dir(id)]).catch(() => undefined);
    }
    await fs.rm(base, { recursive: true, force: true });
  });

  it('writes each file with its owner and mode on a read-only tmpfs, and removes it all', async () => {
    const binds = await store.prepare('task1', [file('a', 'alpha', { uid: 1000, gid: 1001, mode: 0o400 }), file('b', 'beta', { kind: 'config', target: '/etc/b' })]);
    const dir = store.dir('task1');
    assert.ok(await isMounted(dir));
    const mount = (await run('findmnt', ['-n', '-o', 'FSTYPE,OPTIONS', dir])).stdout;
    assert.match(mount, /^tmpfs\s+ro,/);
    assert.match(mount, /nosuid,nodev,noexec/);
    const a = await fs.stat(join(dir, 'a'));
    assert.deepEqual([a.uid, a.gid, a.mode & 0o7777], [1000, 1001, 0o400]);
    assert.equal(await fs.readFile(join(dir, 'b'), 'utf8'), 'beta');
    assert.deepEqual(binds, [
      { Type: 'bind', Source: join(dir, 'a'), Target: '/run/secrets/a', ReadOnly: true },
      { Type: 'bind', Source: join(dir, 'b'), Target: '/etc/b', ReadOnly: true },
    ]);
    await assert.rejects(fs.writeFile(join(dir, 'c'), 'x'), /EROFS/);

    await store.release('task1');
    assert.equal(await isMounted(dir), false);
    assert.deepEqual(await store.taskIds(), []);
    await store.release('task1'); // nothing left: a no-op
  });

  it('a failed write leaves no mount and no directory; a task without files gets nothing', async () => {
    await assert.rejects(store.prepare('task2', [file('same', 'x'), file('same', 'y')]), /EEXIST/);
    assert.equal(await isMounted(store.dir('task2')), false);
    assert.deepEqual(await store.taskIds(), []);
    assert.deepEqual(await store.prepare('task3', []), []);
    assert.deepEqual(await store.taskIds(), []);
    assert.throws(() => store.dir('../etc'), /cannot name a directory/);
  });

  it('removeAllTaskFiles clears every task under an exec root (swarm leave)', async () => {
    await store.prepare('t1', [file('a', '1')]);
    await store.prepare('t2', [file('a', '2')]);
    assert.deepEqual((await store.taskIds()).sort(), ['t1', 't2']);
    await removeAllTaskFiles(base);
    assert.deepEqual(await store.taskIds(), []);
    assert.equal(await isMounted(store.dir('t1')), false);
  });
});
