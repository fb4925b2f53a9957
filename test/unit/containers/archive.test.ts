import assert from 'node:assert/strict';
import { encodePathStat, goFileMode, mountFor } from '../../../worker/engine/containers/archive';

const st = (mode: number, kind: 'file' | 'dir' | 'link') => ({
  mode,
  isDirectory: () => kind === 'dir',
  isSymbolicLink: () => kind === 'link',
  isBlockDevice: () => false,
  isCharacterDevice: () => false,
  isFIFO: () => false,
  isSocket: () => false,
});

describe('containers/archive (docker cp)', () => {
  it('turns Unix modes into Go FileModes the CLI understands', () => {
    assert.equal(goFileMode(st(0o100644, 'file')), 0o644);
    assert.equal(goFileMode(st(0o40755, 'dir')), 2 ** 31 + 0o755);
    assert.equal(goFileMode(st(0o120777, 'link')), 2 ** 27 + 0o777);
    assert.equal(goFileMode(st(0o41777, 'dir')), 2 ** 31 + 2 ** 20 + 0o777, 'sticky');
    assert.equal(goFileMode(st(0o104755, 'file')), 2 ** 23 + 0o755, 'setuid');
  });
  it('encodes the stat header', () => {
    const s = { name: 'f', size: 3, mode: 420, mtime: '2026-01-01T00:00:00.000Z', linkTarget: '' };
    assert.deepEqual(JSON.parse(Buffer.from(encodePathStat(s), 'base64').toString()), s);
  });
  it('finds the innermost mount holding a path', () => {
    const mounts = [
      { Destination: '/data', Source: '/v/data', Type: 'volume' as const, RW: true },
      { Destination: '/data/logs', Source: '/h/logs', Type: 'bind' as const, RW: false },
      { Destination: '/run', Source: '', Type: 'tmpfs' as const, RW: true },
    ];
    assert.deepEqual(mountFor(mounts, '/data/logs/a.log'), { source: '/h/logs', rest: '/a.log', rw: false });
    assert.deepEqual(mountFor(mounts, '/data/x'), { source: '/v/data', rest: '/x', rw: true });
    assert.deepEqual(mountFor(mounts, '/data'), { source: '/v/data', rest: '/', rw: true });
    assert.equal(mountFor(mounts, '/database'), undefined);
    assert.equal(mountFor(mounts, '/run/x'), undefined, 'tmpfs has no host side');
  });
});
