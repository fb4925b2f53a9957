import assert from 'node:assert/strict';
import { buildOciSpec, DEFAULT_MASKED_PATHS, type OciSpecInput } from '../../../worker/engine/runtime/spec';
import { computeCapabilities, DEFAULT_CAPABILITIES } from '../../../worker/engine/runtime/capabilities';

function input(over: Partial<OciSpecInput> = {}): OciSpecInput {
  return {
    rootfs: '/r/merged',
    args: ['sh'],
    env: ['PATH=/bin'],
    cwd: '/',
    user: { uid: 0, gid: 0 },
    namespaces: { network: { mode: 'new' } },
    cgroupsPath: '/shoal/abc',
    capabilities: computeCapabilities({}),
    seccomp: 'default',
    arch: 'x64',
    ...over,
  };
}

describe('runtime/buildOciSpec', () => {
  it('isolates pid, network, mount, ipc and uts by default, with the cgroup path as given', () => {
    const s = buildOciSpec(input());
    assert.deepEqual(s.linux.namespaces.map((n) => n.type).sort(), ['ipc', 'mount', 'network', 'pid', 'uts']);
    assert.ok(s.linux.namespaces.every((n) => n.path === undefined));
    assert.equal(s.linux.cgroupsPath, '/shoal/abc');
    assert.equal(s.root.path, '/r/merged');
    assert.equal(s.root.readonly, false);
  });

  it('joins a netns by path, shares the host network, or makes an empty one', () => {
    const path = buildOciSpec(input({ namespaces: { network: { mode: 'path', path: '/run/netns/x' } } }));
    assert.deepEqual(path.linux.namespaces.find((n) => n.type === 'network'), { type: 'network', path: '/run/netns/x' });
    const host = buildOciSpec(input({ namespaces: { network: { mode: 'host' }, pid: { mode: 'host' }, uts: { mode: 'host' } } }));
    assert.equal(host.linux.namespaces.find((n) => n.type === 'network'), undefined);
    assert.equal(host.linux.namespaces.find((n) => n.type === 'pid'), undefined);
    assert.equal(host.linux.namespaces.find((n) => n.type === 'uts'), undefined);
    assert.ok(host.linux.namespaces.some((n) => n.type === 'mount'), 'always a mount namespace');
  });

  it('sets memory, swap, reservation, CPU and pids limits', () => {
    const s = buildOciSpec(input({ resources: { memory: 64 << 20, memorySwap: 128 << 20, memoryReservation: 32 << 20, cpuShares: 512, cpuQuota: 50_000, cpuPeriod: 100_000, cpusetCpus: '0-1', pidsLimit: 64 } }));
    assert.deepEqual(s.linux.resources?.memory, { limit: 64 << 20, reservation: 32 << 20, swap: 128 << 20 });
    assert.deepEqual(s.linux.resources?.cpu, { shares: 512, quota: 50_000, period: 100_000, cpus: '0-1' });
    assert.deepEqual(s.linux.resources?.pids, { limit: 64 });
    const none = buildOciSpec(input());
    assert.equal(none.linux.resources?.memory, undefined);
    assert.equal(none.linux.resources?.cpu, undefined);
    assert.equal(none.linux.resources?.pids, undefined);
  });

  it('gives the default capability set in every set but inheritable', () => {
    const s = buildOciSpec(input());
    const caps = s.process.capabilities!;
    assert.deepEqual([...caps.bounding].sort(), [...DEFAULT_CAPABILITIES].sort());
    assert.deepEqual(caps.effective, caps.bounding);
    assert.deepEqual(caps.permitted, caps.bounding);
    assert.deepEqual(caps.inheritable, []);
    assert.ok(caps.bounding.includes('CAP_NET_RAW'), 'ping works');
    assert.ok(!caps.bounding.includes('CAP_SYS_ADMIN'));
  });

  it('masks /proc and /sys paths and makes others read-only, except when privileged', () => {
    const s = buildOciSpec(input());
    assert.deepEqual(s.linux.maskedPaths, DEFAULT_MASKED_PATHS);
    assert.ok(s.linux.readonlyPaths!.includes('/proc/sys'));
    assert.ok(s.linux.maskedPaths!.includes('/proc/kcore'));
    const p = buildOciSpec(input({ privileged: true, capabilities: computeCapabilities({ privileged: true }) }));
    assert.deepEqual(p.linux.maskedPaths, []);
    assert.deepEqual(p.linux.readonlyPaths, []);
    assert.equal(p.linux.seccomp, undefined, 'privileged runs unconfined');
    assert.deepEqual(p.linux.resources?.devices, [{ allow: true, access: 'rwm' }]);
    assert.ok(!p.mounts.find((m) => m.destination === '/sys')!.options!.includes('ro'));
  });

  it('applies the default seccomp profile unless unconfined', () => {
    const s = buildOciSpec(input());
    assert.equal(s.linux.seccomp?.defaultAction, 'SCMP_ACT_ALLOW');
    const u = buildOciSpec(input({ seccomp: 'unconfined' }));
    assert.equal(u.linux.seccomp, undefined);
    const custom = buildOciSpec(input({ seccomp: { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [] } }));
    assert.equal(custom.linux.seccomp?.defaultAction, 'SCMP_ACT_ERRNO');
  });

  it('mounts proc, dev, pts, mqueue, shm (sized), sys read-only; a user mount replaces a default', () => {
    const s = buildOciSpec(input({ shmSize: 128 << 20 }));
    const by = (d: string) => s.mounts.find((m) => m.destination === d);
    assert.equal(by('/proc')?.type, 'proc');
    assert.equal(by('/dev/pts')?.type, 'devpts');
    assert.equal(by('/dev/mqueue')?.type, 'mqueue');
    assert.ok(by('/sys')?.options?.includes('ro'));
    assert.ok(by('/dev/shm')?.options?.includes(`size=${128 << 20}`));
    const dflt = buildOciSpec(input());
    assert.ok(dflt.mounts.find((m) => m.destination === '/dev/shm')?.options?.includes(`size=${64 << 20}`));
    const o = buildOciSpec(input({ mounts: [{ destination: '/dev/shm', type: 'bind', source: '/host/shm', options: ['rbind'] }] }));
    assert.equal(o.mounts.filter((m) => m.destination === '/dev/shm').length, 1);
    assert.equal(o.mounts.find((m) => m.destination === '/dev/shm')?.source, '/host/shm');
  });

  it('orders user mounts parents first', () => {
    const s = buildOciSpec(input({ mounts: [{ destination: '/a/b/c', type: 'bind', source: '/x' }, { destination: '/a', type: 'bind', source: '/y' }] }));
    const order = s.mounts.map((m) => m.destination);
    assert.ok(order.indexOf('/a') < order.indexOf('/a/b/c'));
  });

  it('runs as the resolved user with supplementary groups, read-only root, no-new-privileges, rlimits', () => {
    const s = buildOciSpec(input({ user: { uid: 33, gid: 33, additionalGids: [5] }, readonlyRootfs: true, noNewPrivileges: true, rlimits: [{ type: 'RLIMIT_NOFILE', soft: 20000, hard: 20000 }] }));
    assert.deepEqual(s.process.user, { uid: 33, gid: 33, additionalGids: [5] });
    assert.equal(s.root.readonly, true);
    assert.equal(s.process.noNewPrivileges, true);
    assert.deepEqual(s.process.rlimits, [{ type: 'RLIMIT_NOFILE', soft: 20000, hard: 20000 }]);
  });

  it('sets the terminal and its size only with a tty', () => {
    const t = buildOciSpec(input({ terminal: true, consoleSize: { height: 24, width: 80 } }));
    assert.equal(t.process.terminal, true);
    assert.deepEqual(t.process.consoleSize, { height: 24, width: 80 });
    const n = buildOciSpec(input({ consoleSize: { height: 24, width: 80 } }));
    assert.equal(n.process.consoleSize, undefined);
  });
});
