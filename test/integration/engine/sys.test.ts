import assert from 'node:assert/strict';
import { promises as fs, writeSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { mount, umountAsync, SyscallError } from '../../../shared/sys/syscalls';
import { readSmallFile, removeFile, removeFlatDir } from '../../../shared/sys/files';
import { isMountPoint } from '../../../worker/engine/rootfs';
import { sealedRuntimeBinary } from '../../../worker/engine/runtime';
import { run } from '../../../shared/exec';

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

  it('removeFile and removeFlatDir: one unlink per entry; missing is fine; anything else is not lost', async () => {
    const flat = join(dir, 'state');
    await fs.mkdir(flat);
    for (const f of ['status', 'config.json', 'seccomp.bpf']) await fs.writeFile(join(flat, f), f);
    await fs.symlink('/nowhere', join(flat, 'link'));
    await removeFile(join(flat, 'link'));
    await removeFile(join(flat, 'link'));
    assert.deepEqual((await fs.readdir(flat)).sort(), ['config.json', 'seccomp.bpf', 'status']);
    await removeFlatDir(flat);
    await assert.rejects(fs.access(flat));
    await removeFlatDir(flat);
    // Not flat after all: a subdirectory falls back to the recursive removal.
    await fs.mkdir(join(flat, 'sub'), { recursive: true });
    await fs.writeFile(join(flat, 'sub', 'f'), 'x');
    await removeFlatDir(flat);
    await assert.rejects(fs.access(flat));
    await assert.rejects(removeFile(dir), (e: NodeJS.ErrnoException) => e.code === 'EISDIR' || e.code === 'EPERM', 'a directory is not a file');
  });

  it('sealedRuntimeBinary: the runtime from a sealed in-memory copy, made once, made again when the file is replaced', async () => {
    const source = join(dir, 'runtime');
    await fs.copyFile('/bin/true', source);
    const path = sealedRuntimeBinary(source);
    assert.match(path, new RegExp(`^/proc/${process.pid}/fd/\\d+$`));
    assert.equal((await run(path, [])).code, 0, 'it runs');
    assert.throws(() => writeSync(Number(path.split('/').pop()), 'x'), (e: NodeJS.ErrnoException) => e.code === 'EPERM', 'sealed against writes');
    assert.equal(sealedRuntimeBinary(source), path, 'one copy per file');
    // A package upgrade replaces the file by a rename: a new copy of the new file.
    await fs.copyFile('/bin/true', `${source}.new`);
    await fs.rename(`${source}.new`, source);
    assert.notEqual(sealedRuntimeBinary(source), path);
  });
});
