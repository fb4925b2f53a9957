import assert from 'node:assert/strict';
import { checkCreateTypes, normalizeRestartPolicy, parseCpuset, parseSecurityOpts, validateConfig, validateHostConfig, type HostLimits } from '../../../worker/engine/containers/validate';
import { isShoalError } from '../../../shared/errors';
import type { HostConfig } from '../../../worker/engine/containers/types';

const limits: HostLimits = { ncpu: 2, nofileHard: 20000, swapAccounting: true, runtimes: ['crun', 'runc'] };
const bad = (re: RegExp) => (e: unknown) => isShoalError(e, 'INVALID_ARGUMENT') && re.test(e.message);
const hc = (h: Partial<HostConfig>) => validateHostConfig(h, limits);

describe('containers/validate (POST /containers/create)', () => {
  it('refuses wrong JSON types with the field named', () => {
    assert.throws(() => checkCreateTypes({ HostConfig: { Memory: '64m' } }), bad(/HostConfig\.Memory: expected an integer, got string "64m"/));
    assert.throws(() => checkCreateTypes({ Env: 'A=1' }), bad(/Env: expected an array of strings/));
    assert.throws(() => checkCreateTypes({ Tty: 'yes' }), bad(/Tty: expected a boolean/));
    assert.throws(() => checkCreateTypes({ Labels: { a: 1 } }), bad(/Labels\.a: expected a string/));
    assert.throws(() => checkCreateTypes({ HostConfig: { Mounts: [{ Target: 5 }] } }), bad(/HostConfig\.Mounts\[0\]\.Target/));
    assert.throws(() => checkCreateTypes([]), bad(/expected a JSON object/));
    assert.deepEqual(checkCreateTypes({ Cmd: 'echo hi', Env: null }).Cmd, ['echo hi']);
  });

  it('memory: positive, at least 6MB, swap and reservation consistent', () => {
    assert.throws(() => hc({ Memory: -5 }), bad(/Memory/));
    assert.throws(() => hc({ Memory: 1024 * 1024 }), bad(/^Minimum memory limit allowed is 6MB$/));
    assert.throws(() => hc({ MemorySwap: 100 << 20 }), bad(/always set the Memory limit/));
    assert.throws(() => hc({ Memory: 100 << 20, MemorySwap: 50 << 20 }), bad(/memoryswap limit should be larger/));
    assert.throws(() => hc({ Memory: 10 << 20, MemoryReservation: 20 << 20 }), bad(/less than memory reservation/));
    assert.deepEqual(hc({ Memory: 64 << 20, MemorySwap: -1 }), []);
    const noSwap = { Memory: 64 << 20, MemorySwap: 128 << 20 };
    assert.equal(validateHostConfig(noSwap, { ...limits, swapAccounting: false }).length, 1);
    assert.equal(noSwap.MemorySwap, -1);
  });

  it('cpu: nano cpus in range and not with period/quota; cpuset within the machine', () => {
    assert.throws(() => hc({ NanoCpus: 3e9 }), bad(/Range of CPUs is from 0.01 to 2.00/));
    assert.throws(() => hc({ NanoCpus: 1e9, CpuQuota: 50000 }), bad(/Conflicting options/));
    assert.throws(() => hc({ CpuQuota: 10 }), bad(/cfs quota/));
    assert.throws(() => hc({ CpuPeriod: 10 }), bad(/cfs period/));
    assert.throws(() => hc({ CpusetCpus: '0-3' }), bad(/Requested CPUs are not available - requested 0-3, available: 0-1/));
    assert.throws(() => hc({ CpusetCpus: 'a' }), bad(/CpusetCpus/));
    assert.deepEqual(parseCpuset('0-2,5'), [0, 1, 2, 5]);
    assert.deepEqual(hc({ NanoCpus: 5e8 }), []);
  });

  it('restart policies', () => {
    assert.throws(() => normalizeRestartPolicy({ Name: 'sometimes' as never }), bad(/invalid restart policy/));
    assert.throws(() => normalizeRestartPolicy({ Name: 'always', MaximumRetryCount: 3 }), bad(/only be used with 'on-failure'/));
    assert.throws(() => normalizeRestartPolicy({ Name: 'on-failure', MaximumRetryCount: -1 }), bad(/cannot be negative/));
    assert.deepEqual(normalizeRestartPolicy(undefined), { Name: '', MaximumRetryCount: 0 });
    assert.throws(() => hc({ AutoRemove: true, RestartPolicy: { Name: 'always', MaximumRetryCount: 0 } }), bad(/AutoRemove/));
  });

  it('capabilities, security options, ulimits, logging, runtime, modes, sysctls', () => {
    const h: Partial<HostConfig> = { CapAdd: ['net_admin'], CapDrop: ['CAP_CHOWN'] };
    hc(h);
    assert.deepEqual([h.CapAdd, h.CapDrop], [['CAP_NET_ADMIN'], ['CAP_CHOWN']]);
    assert.throws(() => hc({ CapAdd: ['WINGS'] }), bad(/unknown capability/));
    assert.throws(() => hc({ SecurityOpt: ['bogus'] }), bad(/invalid --security-opt/));
    assert.deepEqual(parseSecurityOpts(['seccomp=unconfined', 'no-new-privileges']), { seccomp: 'unconfined', noNewPrivileges: true });
    assert.equal(parseSecurityOpts(['no-new-privileges:false']).noNewPrivileges, false);
    assert.deepEqual(parseSecurityOpts([`seccomp=${JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW' })}`]).seccomp, { defaultAction: 'SCMP_ACT_ALLOW' });
    assert.throws(() => parseSecurityOpts(['seccomp={']), bad(/invalid seccomp profile/));
    assert.throws(() => hc({ Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 1048576 }] }), bad(/exceeds this machine's limit of 20000/));
    assert.throws(() => hc({ Ulimits: [{ Name: 'nofile', Soft: 2000, Hard: 1000 }] }), bad(/soft limit/));
    assert.throws(() => hc({ Ulimits: [{ Name: 'wings', Soft: 1, Hard: 1 }] }), bad(/invalid ulimit name/));
    assert.throws(() => hc({ LogConfig: { Type: 'syslog', Config: {} } }), bad(/logging driver "syslog"/));
    assert.throws(() => hc({ Runtime: 'kata' }), bad(/unknown or invalid runtime name: kata/));
    assert.throws(() => hc({ IpcMode: 'weird' }), bad(/invalid IpcMode/));
    assert.throws(() => hc({ Sysctls: { 'kernel.hostname': 'x' } }), bad(/sysctl 'kernel.hostname' is not allowed/));
    assert.throws(() => hc({ NetworkMode: 'host', Sysctls: { 'net.ipv4.ip_forward': '1' } }), bad(/host network namespace/));
    assert.deepEqual(hc({ Sysctls: { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '1' } }), []);
    assert.throws(() => hc({ OomScoreAdj: 2000 }), bad(/oom score adj/));
    assert.throws(() => hc({ ShmSize: -1 }), bad(/SHM size/));
    assert.throws(() => hc({ CgroupParent: '../../escape' }), bad(/invalid CgroupParent/));
    assert.deepEqual(hc({ CgroupParent: '/myapp/web' }), []);
  });

  it('config: stop signal, healthcheck, hostname, env', () => {
    assert.throws(() => validateConfig({ StopSignal: 'SIGFOO' }), bad(/invalid signal: SIGFOO/));
    assert.throws(() => validateConfig({ Healthcheck: { Test: ['CMD'], Interval: 10 } }), bad(/Healthcheck.Interval/));
    assert.throws(() => validateConfig({ Healthcheck: { Test: ['RUN', 'x'] } }), bad(/NONE, CMD or CMD-SHELL/));
    assert.throws(() => validateConfig({ Hostname: 'bad_host!' }), bad(/invalid hostname/));
    assert.throws(() => validateConfig({ Env: ['=x'] }), bad(/invalid environment variable/));
    validateConfig({ StopSignal: 'SIGRTMIN+3', Healthcheck: { Test: ['CMD-SHELL', 'true'], Interval: 1e9 } });
  });
});
