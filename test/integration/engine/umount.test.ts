import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { mount, umountAsync, SyscallError } from '../../../shared/sys/syscalls';
import { isMountPoint } from '../../../worker/engine/rootfs';

describe('shared/sys: umount off the main thread', () => {
  let dir: string;
  before(async () => {
    dir = await fs.mkdtemp(join(tmpdir(), 'shoal-umount-'));
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('unmounts on a libuv thread; a failure is the same typed error as the synchronous call', async () => {
    const target = join(dir, 'mnt');
    await fs.mkdir(target);
    mount('tmpfs', target, 'tmpfs', 0, 'size=1m');
    assert.ok(await isMountPoint(target));
    await umountAsync(target);
    assert.equal(await isMountPoint(target), false);
    await assert.rejects(umountAsync(target), (e: unknown) => e instanceof SyscallError && e.errno === 'EINVAL' && /umount\(.*mnt\)/.test(e.message));
    await assert.rejects(umountAsync(join(dir, 'missing')), (e: unknown) => e instanceof SyscallError && e.errno === 'ENOENT');
  });
});
