import { strict as assert } from 'node:assert';
import { planFavorDynmods } from '../../../worker/engine/runtime/favordynmods';
import { parseMountInfo } from '../../../worker/engine/rootfs/mountinfo';

const hybrid = (v2opts: string) =>
  parseMountInfo(
    [
      '31 22 0:26 / /sys/fs/cgroup rw,nosuid - tmpfs tmpfs rw,mode=755',
      '35 31 0:30 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
      `41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 ${v2opts}`,
    ].join('\n'),
  );

describe('favordynmods plan', () => {
  it('remounts the cgroup2 mount of a hybrid machine', () => {
    assert.deepEqual(planFavorDynmods(hybrid('rw,nsdelegate')), { action: 'remount', mountPoint: '/sys/fs/cgroup/unified' });
  });

  it('leaves a mount that already has it', () => {
    assert.deepEqual(planFavorDynmods(hybrid('rw,nsdelegate,favordynmods')), { action: 'none', reason: 'already set' });
  });

  it('remounts a pure v2 root', () => {
    const m = parseMountInfo('30 22 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot');
    assert.deepEqual(planFavorDynmods(m), { action: 'remount', mountPoint: '/sys/fs/cgroup' });
  });

  it('does nothing without a cgroup2 mount, or for a bind of a sub-cgroup', () => {
    assert.equal(planFavorDynmods(parseMountInfo('35 31 0:30 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory')).action, 'none');
    assert.equal(planFavorDynmods(parseMountInfo('50 31 0:38 /sub /mnt/x rw - cgroup2 cgroup2 rw')).action, 'none');
  });
});
