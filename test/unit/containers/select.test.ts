import assert from 'node:assert/strict';
import { decideRuntime, HUGETLB_FIX, parseProcCgroups, type RuntimeProbe } from '../../../worker/engine/runtime/select';
import { cgroupModeOf, hierarchiesFrom, parseOomControl } from '../../../worker/engine/runtime/cgroups';
import { parseMountInfo } from '../../../worker/engine/rootfs/mountinfo';

const probe = (over: Partial<RuntimeProbe>): RuntimeProbe => ({ requested: 'crun', available: { crun: true, runc: true }, cgroupMode: 'hybrid', hugetlbInKernel: true, hugetlbMounted: false, ...over });

describe('runtime selection (crun needs hugetlb v1 under hybrid cgroups)', () => {
  it('uses crun when hugetlb is mounted, or on cgroup v2', () => {
    assert.deepEqual(decideRuntime(probe({ hugetlbMounted: true })), { action: 'use', runtime: 'crun' });
    assert.deepEqual(decideRuntime(probe({ cgroupMode: 'v2' })), { action: 'use', runtime: 'crun' });
  });
  it('asks to mount hugetlb first, then falls back to runc with the exact fix when that failed', () => {
    assert.deepEqual(decideRuntime(probe({})), { action: 'mount-hugetlb' });
    const d = decideRuntime(probe({}), 'mount: permission denied');
    assert.equal(d.action, 'fallback');
    assert.equal((d as { runtime: string }).runtime, 'runc');
    assert.equal((d as { fix?: string }).fix, HUGETLB_FIX);
    assert.match((d as { reason: string }).reason, /permission denied/);
    assert.equal(HUGETLB_FIX, 'mkdir -p /sys/fs/cgroup/hugetlb && mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb');
  });
  it('falls back without trying when the kernel has no hugetlb controller', () => {
    const d = decideRuntime(probe({ hugetlbInKernel: false }));
    assert.equal(d.action, 'fallback');
    assert.equal((d as { fix?: string }).fix, undefined);
  });
  it('runc as asked; a missing runtime falls back to the other; none fails', () => {
    assert.deepEqual(decideRuntime(probe({ requested: 'runc' })), { action: 'use', runtime: 'runc' });
    assert.equal(decideRuntime(probe({ available: { crun: false, runc: true } })).action, 'fallback');
    assert.equal(decideRuntime(probe({ available: { crun: false, runc: false } })).action, 'fail');
    assert.equal(decideRuntime(probe({ available: { crun: true, runc: false } }), 'no').action, 'fail');
    assert.deepEqual(decideRuntime(probe({ requested: 'runc', available: { crun: true, runc: false }, hugetlbMounted: true })), { action: 'fallback', runtime: 'crun', reason: 'runc is not installed' });
  });
  it('reads /proc/cgroups, mountinfo hierarchies and the cgroup mode', () => {
    const k = parseProcCgroups('#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpu\t2\t1\t1\nhugetlb\t0\t1\t1\nrdma\t0\t1\t0\n');
    assert.equal(k.get('hugetlb'), true);
    assert.equal(k.get('rdma'), false);
    const mi = parseMountInfo([
      '30 25 0:26 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory',
      '31 25 0:27 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd',
      '32 25 0:28 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
      '33 25 0:29 / /sys/fs/cgroup/hugetlb rw,relatime - cgroup cgroup rw,hugetlb',
      '34 25 0:30 / /mnt/with\\040space rw - ext4 /dev/vda rw',
    ].join('\n'));
    assert.equal(mi[4].mountPoint, '/mnt/with space');
    const h = hierarchiesFrom(mi);
    assert.deepEqual(h.map((x) => [x.mountPoint, x.version, x.controllers]), [
      ['/sys/fs/cgroup/memory', 1, ['memory']],
      ['/sys/fs/cgroup/systemd', 1, ['name=systemd']],
      ['/sys/fs/cgroup/unified', 2, []],
      ['/sys/fs/cgroup/hugetlb', 1, ['hugetlb']],
    ]);
    assert.equal(cgroupModeOf(h), 'hybrid');
    assert.equal(cgroupModeOf(h.filter((x) => x.version === 2)), 'v2');
    assert.deepEqual(parseOomControl('oom_kill_disable 0\nunder_oom 0\noom_kill 2\n'), { oomKill: 2, underOom: false });
  });
});
