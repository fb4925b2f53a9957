import assert from 'node:assert/strict';
import { openSync, closeSync, readFileSync, readdirSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { spawnFast } from '../../../shared/sys/spawn';
import { SyscallError } from '../../../shared/sys/syscalls';

async function readAll(r: Readable): Promise<string> {
  let s = '';
  for await (const b of r) s += (b as Buffer).toString();
  return s;
}

describe('shared/sys: posix_spawn children', () => {
  it('runs a command with pipes, env and cwd, and reports its exit code', async () => {
    const c = spawnFast('sh', ['-c', 'read line; echo "$line $FOO $(pwd)"; echo warn >&2; exit 7'], { stdio: ['in', 'out', 'out'], env: { PATH: process.env.PATH, FOO: 'bar' }, cwd: '/tmp' });
    (c.stdio[0] as Writable).end('hello\n');
    const [out, err, st] = await Promise.all([readAll(c.stdio[1] as Readable), readAll(c.stdio[2] as Readable), c.exited]);
    assert.equal(out, 'hello bar /tmp\n');
    assert.equal(err, 'warn\n');
    assert.deepEqual(st, { code: 7, signal: null });
  });

  it('reports a signal, and kill reaches the child', async () => {
    const c = spawnFast('sleep', ['30'], { stdio: ['ignore', 'ignore', 'ignore'] });
    c.kill('SIGKILL');
    assert.deepEqual(await c.exited, { code: null, signal: 'SIGKILL' });
    // Reaped: no zombie is left under this process.
    assert.throws(() => readFileSync(`/proc/${c.pid}/stat`));
  });

  it('gives the child default signal actions and an empty mask (Node ignores SIGPIPE)', async () => {
    const c = spawnFast('grep', ['-E', '^Sig(Ign|Blk)', '/proc/self/status'], { stdio: ['ignore', 'out', 'ignore'] });
    const out = await readAll(c.stdio[1] as Readable);
    await c.exited;
    const mask = (name: string) => BigInt(`0x${new RegExp(`${name}:\\s*([0-9a-f]+)`).exec(out)![1]}`);
    assert.equal(mask('SigBlk'), 0n);
    assert.equal(mask('SigIgn') & (1n << 12n), 0n, 'SIGPIPE (13) is not ignored');
  });

  it('passes one of our descriptors at a given fd, and makes a new session when detached', async () => {
    const fd = openSync('/proc/self/status', 'r');
    try {
      const c = spawnFast('sh', ['-c', 'head -1 <&3; ps -o sid= -p $$'], { stdio: ['ignore', 'out', 'ignore', fd], detached: true });
      const [out] = await Promise.all([readAll(c.stdio[1] as Readable), c.exited]);
      const [first, sid] = out.trim().split('\n');
      assert.match(first, /^Name:/);
      assert.equal(Number(sid), c.pid);
    } finally {
      closeSync(fd);
    }
  });

  it('a missing program is a typed error naming it, with nothing left open', () => {
    const before = readdirSync('/proc/self/fd').length;
    assert.throws(() => spawnFast('shoal-no-such-program', [], { stdio: ['in', 'out', 'out'] }), (e: unknown) => e instanceof SyscallError && e.errno === 'ENOENT' && /shoal-no-such-program/.test(e.message));
    assert.equal(readdirSync('/proc/self/fd').length, before, 'no pipe end leaks');
  });
});
