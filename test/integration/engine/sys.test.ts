import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { mount, umountAsync, SyscallError } from '../../../shared/sys/syscalls';
import { readSmallFile } from '../../../shared/sys/files';
import { isMountPoint } from '../../../worker/engine/rootfs';

describe('shared/sys: the calls the engine makes on every container start and removal', () => {
  let dir: string;
  before(async () => {
    dir = await fs.mkdtemp(join(tmpdir(), 'shoal-sys-engine-'));
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('umountAsync unmounts on a libuv thread; a failure is the same typed error as the synchronous call', async () => {
    const target = join(dir, 'mnt');
    await fs.mkdir(target);
    mount('tmpfs', target, 'tmpfs', 0, 'size=1m');
    assert.ok(await isMountPoint(target));
    await umountAsync(target);
    assert.equal(await isMountPoint(target), false);
    await assert.rejects(umountAsync(target), (e: unknown) => e instanceof SyscallError && e.errno === 'EINVAL' && /umount\(.*mnt\)/.test(e.message));
    await assert.rejects(umountAsync(join(dir, 'missing')), (e: unknown) => e instanceof SyscallError && e.errno === 'ENOENT');
  });

  it('readSmallFile returns the text, undefined for a missing file, and throws anything else', async () => {
    await fs.writeFile(join(dir, 'pid'), '4242\n');
    assert.equal(readSmallFile(join(dir, 'pid')), '4242\n');
    assert.equal(readSmallFile(join(dir, 'missing')), undefined);
    assert.throws(() => readSmallFile(dir), (e: unknown) => (e as NodeJS.ErrnoException).code === 'EISDIR');
    assert.match(readSmallFile('/proc/self/cgroup') ?? '', /^\d+:/, 'procfs files, whose size stat reports as 0, are read whole');
  });
});
