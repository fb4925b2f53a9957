import assert from 'node:assert/strict';
import { mountPointOf, ociMountOf, parseBind, parseMountRequest, planMounts } from '../../../worker/engine/containers/mounts';
import { overlayMountOptions, MAX_MOUNT_OPTIONS } from '../../../worker/engine/rootfs/overlay';
import { isShoalError } from '../../../shared/errors';

const bad = (re: RegExp) => (e: unknown) => isShoalError(e, 'INVALID_ARGUMENT') && re.test(e.message);

describe('containers/mounts', () => {
  it('parses -v binds, named and anonymous volumes with modes', () => {
    assert.deepEqual(parseBind('/host/dir:/data:ro'), { type: 'bind', source: '/host/dir', destination: '/data', readOnly: true, propagation: undefined, createSource: true, mode: 'ro' });
    const v = parseBind('cache:/var/cache');
    assert.equal(v.type, 'volume');
    assert.equal(v.source, 'cache');
    const anon = parseBind('/scratch');
    assert.equal(anon.type, 'volume');
    assert.equal(anon.source, undefined);
    assert.equal(parseBind('/a:/b:rw,rshared').propagation, 'rshared');
    assert.throws(() => parseBind('rel/dir:/x'), bad(/includes invalid characters/));
    assert.throws(() => parseBind('/a:b'), bad(/mount path must be absolute/));
    assert.throws(() => parseBind('/a:/b:xx'), bad(/invalid mode: xx/));
    assert.throws(() => parseBind('/a:/'), bad(/destination can't be '\/'/));
  });

  it('parses Mounts entries, with docker\'s messages', () => {
    assert.equal(parseMountRequest({ Type: 'bind', Source: '/x', Target: '/y' }).createSource, false);
    assert.throws(() => parseMountRequest({ Type: 'bind', Target: '/y' }), bad(/field Source must not be empty/));
    assert.throws(() => parseMountRequest({ Type: 'tmpfs', Source: '/x', Target: '/y' }), bad(/Source must not be specified/));
    assert.throws(() => parseMountRequest({ Type: 'npipe' as never, Target: '/y' }), bad(/mount type unknown/));
    assert.deepEqual(parseMountRequest({ Type: 'tmpfs', Target: '/run', TmpfsOptions: { SizeBytes: 1024, Mode: 0o1777 } }).tmpfsOptions, ['size=1024', 'mode=1777']);
  });

  it('plans every mount once, anonymous volumes for image volumes not covered', () => {
    const p = planMounts({ Binds: ['/h:/data'], Tmpfs: { '/run': 'size=1m' } }, { '/data': {}, '/logs': {} });
    assert.deepEqual(p.map((m) => [m.type, m.destination]), [['bind', '/data'], ['tmpfs', '/run'], ['volume', '/logs']]);
    assert.throws(() => planMounts({ Binds: ['/a:/x', 'vv:/x'] }, {}), bad(/Duplicate mount point: \/x/));
  });

  it('renders inspect mount points and OCI mounts', () => {
    const mp = mountPointOf({ type: 'volume', destination: '/d', readOnly: true, mode: 'ro', hostPath: '/v/d', volumeName: 'd' });
    assert.deepEqual(mp, { Type: 'volume', Name: 'd', Source: '/v/d', Destination: '/d', Driver: 'local', Mode: 'ro', RW: false, Propagation: '' });
    assert.deepEqual(ociMountOf(mp), { destination: '/d', type: 'bind', source: '/v/d', options: ['rbind', 'rprivate', 'ro'] });
    const t = ociMountOf({ Type: 'tmpfs', Source: '', Destination: '/run', Mode: '', RW: true, Propagation: '' }, ['size=1m', 'exec']);
    assert.deepEqual(t.options, ['nosuid', 'nodev', 'noexec', 'size=1m', 'exec']);
  });
});

describe('rootfs/overlayMountOptions', () => {
  it('lists the top layer first, absolute paths when short', () => {
    const o = overlayMountOptions({ lowerDirs: ['/l/base', '/l/top'], upperDir: '/c/upper', workDir: '/c/work', target: '/c/merged' });
    assert.deepEqual(o, { options: 'lowerdir=/l/top:/l/base,upperdir=/c/upper,workdir=/c/work' });
  });
  it('switches to paths relative to the common parent when the options exceed a page', () => {
    const lowers = Array.from({ length: 45 }, (_, i) => `/var/lib/shoal/image/layers/${String(i).padStart(2, '0')}${'f'.repeat(62)}/diff`);
    const o = overlayMountOptions({ lowerDirs: lowers, upperDir: '/var/lib/shoal/containers/c1/upper', workDir: '/var/lib/shoal/containers/c1/work', target: '/x' });
    assert.equal(o.cwd, '/var/lib/shoal');
    assert.ok(o.options.length <= MAX_MOUNT_OPTIONS);
    assert.ok(o.options.startsWith(`lowerdir=image/layers/44`));
    assert.ok(o.options.endsWith(',upperdir=containers/c1/upper,workdir=containers/c1/work'));
  });
  it('links the layers as l/0, l/1... next to the mount point when even relative paths are too long', () => {
    const lowers = Array.from({ length: 125 }, (_, i) => `/l/${String(i).padStart(3, '0')}${'f'.repeat(61)}/diff`);
    const o = overlayMountOptions({ lowerDirs: lowers, upperDir: '/c/id/upper', workDir: '/c/id/work', target: '/c/id/merged' });
    assert.equal(o.cwd, '/c/id');
    assert.equal(o.links!.length, 125);
    assert.deepEqual(o.links![0], ['/c/id/l/0', lowers[124]]);
    assert.ok(o.options.startsWith('lowerdir=l/0:l/1:'));
    assert.ok(o.options.endsWith(',upperdir=upper,workdir=work'));
    assert.ok(o.options.length <= MAX_MOUNT_OPTIONS);
  });
  it('refuses what cannot parse', () => {
    assert.throws(() => overlayMountOptions({ lowerDirs: ['/a,b'], upperDir: '/u', workDir: '/w', target: '/t' }), bad(/contains/));
    assert.throws(() => overlayMountOptions({ lowerDirs: [], upperDir: '/u', workDir: '/w', target: '/t' }), bad(/at least one lower/));
  });
});
