import assert from 'node:assert/strict';
import { promises as fs, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { run } from '../../../shared/exec';
import { inNewNetns, inNetns, mount, umount, MNT_DETACH, SyscallError } from '../../../shared/sys/syscalls';
import { attachToBridges } from '../../../shared/sys/netdev';

const nsInode = (path: string) => statSync(path).ino;

describe('shared/sys: system calls through koffi', () => {
  let dir: string;
  before(async () => {
    dir = await fs.mkdtemp(join(tmpdir(), 'shoal-sys-'));
  });
  after(async () => {
    await run('umount', ['-R', dir], { okCodes: [0, 1, 32] });
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('mounts and unmounts; a failure is a typed error naming the call and the errno', async () => {
    const target = join(dir, 'mnt');
    await fs.mkdir(target);
    mount('tmpfs', target, 'tmpfs', 0, 'size=1m');
    await fs.writeFile(join(target, 'f'), 'x');
    assert.match(await fs.readFile('/proc/self/mountinfo', 'utf8'), new RegExp(` ${target} `));
    umount(target);
    assert.equal(await fs.readFile(join(target, 'f'), 'utf8').catch(() => 'gone'), 'gone');
    assert.throws(() => umount(target), (e: unknown) => e instanceof SyscallError && e.errno === 'EINVAL' && /umount\(.*\): invalid argument/.test(e.message));
    assert.throws(() => mount('tmpfs', join(dir, 'missing'), 'tmpfs', 0), (e: unknown) => e instanceof SyscallError && e.errno === 'ENOENT' && e.code === 'NOT_FOUND');
  });

  it('binds a new network namespace, forks a child inside it and returns the thread home', async () => {
    const home = nsInode('/proc/thread-self/ns/net');
    const ns = join(dir, 'ns1');
    await fs.writeFile(ns, '');
    const out = await run('sh', ['-c', 'readlink /proc/self/ns/net; ip -o link show | wc -l'], { spawnIn: (spawnChild) => inNewNetns(ns, spawnChild) });
    assert.equal(nsInode('/proc/thread-self/ns/net'), home, 'the daemon thread is back in its own namespace');
    const [link, count] = out.stdout.trim().split('\n');
    assert.equal(link, `net:[${nsInode(ns)}]`, 'the child was born in the new namespace');
    assert.notEqual(nsInode(ns), home);
    assert.equal(count.trim(), '1', 'a fresh namespace has only lo');
    // Entering the bound namespace again reaches the same one.
    const again = await run('readlink', ['/proc/self/ns/net'], { spawnIn: (spawnChild) => inNetns(ns, spawnChild) });
    assert.equal(again.stdout.trim(), link);
    assert.equal(nsInode('/proc/thread-self/ns/net'), home);
    umount(ns, MNT_DETACH);
  });

  it('puts an interface on a bridge and sets it up', async () => {
    const tag = randomBytes(3).toString('hex');
    const br = `shtb${tag}`;
    const veth = `shtv${tag}`;
    await run('ip', ['link', 'add', br, 'type', 'bridge']);
    try {
      await run('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', `shtp${tag}`]);
      attachToBridges([{ dev: veth, bridge: br }]);
      const info = JSON.parse((await run('ip', ['-j', '-d', 'link', 'show', veth])).stdout)[0] as { master?: string; flags: string[] };
      assert.equal(info.master, br);
      assert.ok(info.flags.includes('UP'), info.flags.join(','));
      assert.throws(() => attachToBridges([{ dev: 'shtnone0', bridge: br }]), (e: unknown) => e instanceof SyscallError && /SIOCGIFINDEX shtnone0/.test(e.message));
      assert.throws(() => attachToBridges([{ dev: 'a-name-longer-than-15', bridge: br }]), RangeError);
    } finally {
      await run('ip', ['link', 'del', veth], { okCodes: [0, 1] });
      await run('ip', ['link', 'del', br], { okCodes: [0, 1] });
    }
  });
});
