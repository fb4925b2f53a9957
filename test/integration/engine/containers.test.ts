import assert from 'node:assert/strict';
import { promises as fs, existsSync } from 'node:fs';
import { join } from 'node:path';
import { collect, makeStack, runContainer, type Stack } from '../containers/fixture';
import { isMountPoint, mountOverlay } from '../../../worker/engine/rootfs';

// What the engine does off the start-to-exit path, or once for many containers: rm answers once
// the record, runtime, cgroups, network and volumes are gone and the directory is in the trash
// (unmounting and deleting come after the answer); create reads users once per image.
describe('engine: work moved off the container path stays correct', function () {
  this.timeout(60_000);
  let s: Stack;
  const trash = () => join(s.config.dataRoot, 'containers-removed');

  before(async () => {
    s = await makeStack();
  });
  after(async () => {
    await s?.destroy();
  });

  it('a removed container is out of the containers directory at once; unmounted and deleted by close', async () => {
    const { id } = await runContainer(s.cm, { Cmd: ['sh', '-c', 'echo data > /kept'] });
    const dir = join(s.config.dataRoot, 'containers', id);
    const bundle = join(s.config.execRoot, 'containers', id);
    await s.cm.remove(id);
    assert.equal(existsSync(dir), false);
    assert.equal(await isMountPoint(join(dir, 'merged')), false);
    await s.reopen(); // close waits for the unmounts and deletions under way
    assert.equal(await isMountPoint(join(trash(), id, 'merged')), false, 'nothing left mounted in the trash');
    assert.deepEqual(await fs.readdir(trash()), []);
    assert.equal(existsSync(bundle), false);
    assert.equal(existsSync(join(s.config.execRoot, 'exits', id)), false);
  });

  it('the same name is free for a new container right after rm, with many removals in flight', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await runContainer(s.cm, { Cmd: ['true'] }, { name: 'again' });
      assert.equal(r.code, 0);
      await s.cm.remove(r.id);
    }
    assert.equal((await s.cm.list({ all: true })).length, 0);
    await s.reopen();
    assert.deepEqual(await fs.readdir(trash()), []);
  });

  it('what a crash left in the trash (a directory with its overlay still mounted) is deleted at open', async () => {
    const img = await s.images.resolveForRun('busybox');
    const left = join(trash(), 'e'.repeat(64));
    await mountOverlay({ lowerDirs: img.layerDirs, upperDir: join(left, 'upper'), workDir: join(left, 'work'), target: join(left, 'merged') });
    assert.ok(await isMountPoint(join(left, 'merged')));
    await s.reopen();
    await s.reopen(); // the first open deletes in the background; the next close waits for it
    assert.equal(await isMountPoint(join(left, 'merged')), false);
    assert.equal(existsSync(left), false);
    for (const l of img.layerDirs) assert.ok(existsSync(l), 'the image layers under the mount are untouched');
  });

  it('named users resolve the same for every container of an image; a container\'s own additions stay its own', async () => {
    for (let i = 0; i < 2; i++) {
      const r = await runContainer(s.cm, { Cmd: ['sh', '-c', 'id -u; id -g; echo $HOME'], User: 'www-data' });
      assert.equal(r.stdout, '33\n33\n/var/www\n');
      await s.cm.remove(r.id);
    }
    const { Id } = await s.cm.create({ Image: 'busybox', Cmd: ['sh', '-c', 'echo "svc:x:1234:33::/srv:/bin/sh" >> /etc/passwd; touch /added; sleep 30'] });
    await s.cm.start(Id);
    try {
      const added = async () => {
        for (let i = 0; i < 100; i++) {
          const e = s.cm.execCreate(Id, { AttachStdout: true, Cmd: ['ls', '/added'] }).Id;
          if ((await collect((await s.cm.execStart(e, { detach: false }))!)).stdout.trim() === '/added') return;
          await new Promise((r) => setTimeout(r, 50));
        }
        throw new Error('the container never wrote its user');
      };
      await added();
      // exec reads the container's own files...
      const e = s.cm.execCreate(Id, { AttachStdout: true, Cmd: ['sh', '-c', 'id -u; echo $HOME'], User: 'svc' }).Id;
      assert.equal((await collect((await s.cm.execStart(e, { detach: false }))!)).stdout, '1234\n/srv\n');
      // ...a new container only the image's.
      await assert.rejects(s.cm.create({ Image: 'busybox', Cmd: ['true'], User: 'svc' }), /unable to find user svc/);
    } finally {
      await s.cm.remove(Id, { force: true });
    }
  });
});
