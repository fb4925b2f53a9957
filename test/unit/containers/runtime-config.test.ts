import assert from 'node:assert/strict';
import { cpuLimits, memorySwap, processEnv, replaceOrAppendEnv, rlimitsFor } from '../../../worker/engine/containers/runtime-config';
import { applyChanges, commitConfig } from '../../../worker/engine/containers/commit';
import { applyProbe, probeCommand } from '../../../worker/engine/containers/health';
import { generateName, normalizeName } from '../../../worker/engine/containers/names';
import { parseNofileHard } from '../../../worker/engine/containers/host';
import { hostConfigWithDefaults } from '../../../worker/engine/containers/defaults';
import type { HostConfig } from '../../../worker/engine/containers/types';

const hc = (h: Partial<HostConfig>) => ({ Memory: 0, MemorySwap: 0, NanoCpus: 0, CpuQuota: 0, CpuPeriod: 0, ...h }) as HostConfig;

describe('containers/runtime config pieces', () => {
  it('builds the process env as dockerd: PATH, HOSTNAME, TERM for a tty, config env, HOME', () => {
    assert.deepEqual(processEnv({ env: ['PATH=/bin', 'A=1'], hostname: 'h1', tty: true, home: '/root' }), ['PATH=/bin', 'HOSTNAME=h1', 'TERM=xterm', 'A=1', 'HOME=/root']);
    assert.deepEqual(processEnv({ env: ['HOME=/x', 'HOSTNAME=mine'], hostname: 'h1', tty: false, home: '/root' }).slice(1), ['HOSTNAME=mine', 'HOME=/x']);
    assert.deepEqual(replaceOrAppendEnv(['A=1', 'B=2'], ['B=3', 'C=4']), ['A=1', 'B=3', 'C=4']);
  });
  it('turns NanoCpus into a quota over 100 ms', () => {
    assert.deepEqual(cpuLimits(hc({ NanoCpus: 5e8 })), { cpuPeriod: 100_000, cpuQuota: 50_000 });
    assert.deepEqual(cpuLimits(hc({ NanoCpus: 1.5e9 })), { cpuPeriod: 100_000, cpuQuota: 150_000 });
    assert.deepEqual(cpuLimits(hc({ CpuQuota: 20_000, CpuPeriod: 50_000 })), { cpuQuota: 20_000, cpuPeriod: 50_000 });
  });
  it('defaults swap to twice the memory', () => {
    assert.equal(memorySwap(hc({ Memory: 64 })), 128);
    assert.equal(memorySwap(hc({ Memory: 64, MemorySwap: -1 })), -1);
    assert.equal(memorySwap(hc({ Memory: 64, MemorySwap: 100 })), 100);
    assert.equal(memorySwap(hc({})), undefined);
  });
  it('caps nofile at the machine limit and adds ulimits', () => {
    assert.deepEqual(rlimitsFor(null, 20000), [{ type: 'RLIMIT_NOFILE', soft: 20000, hard: 20000 }]);
    assert.deepEqual(rlimitsFor([{ Name: 'nofile', Soft: 100, Hard: 200 }, { Name: 'nproc', Soft: 10, Hard: 10 }], 20000), [
      { type: 'RLIMIT_NOFILE', soft: 100, hard: 200 },
      { type: 'RLIMIT_NPROC', soft: 10, hard: 10 },
    ]);
    assert.equal(parseNofileHard('Limit Soft Limit Hard Limit Units\nMax open files            1024                 20000                files\n'), 20000);
  });
});

describe('containers/commit changes', () => {
  it('applies Dockerfile-style instructions', () => {
    const c = applyChanges({ Env: ['A=1'], Cmd: ['sh'] }, ['CMD ["echo","hi"]', 'ENTRYPOINT /run.sh', 'ENV A=2 B="two words"', 'LABEL x=y', 'EXPOSE 80 53/udp', 'USER app', 'WORKDIR /srv', 'WORKDIR sub', 'VOLUME /data', 'STOPSIGNAL SIGINT']);
    assert.deepEqual(c.Cmd, ['echo', 'hi']);
    assert.deepEqual(c.Entrypoint, ['/bin/sh', '-c', '/run.sh']);
    assert.deepEqual(c.Env, ['A=2', 'B=two words']);
    assert.deepEqual(c.Labels, { x: 'y' });
    assert.deepEqual(Object.keys(c.ExposedPorts!), ['80/tcp', '53/udp']);
    assert.equal(c.User, 'app');
    assert.equal(c.WorkingDir, '/srv/sub');
    assert.deepEqual(Object.keys(c.Volumes!), ['/data']);
    assert.equal(c.StopSignal, 'SIGINT');
    assert.throws(() => applyChanges({}, ['RUN rm -rf /']), /RUN is not a valid change command/);
  });
  it('starts from the container config with the request on top, leaving per-container fields out', () => {
    const c = commitConfig({ Hostname: 'h', User: 'u', Env: ['A=1'], Cmd: ['x'], Labels: { a: '1' }, WorkingDir: '/w' } as never, { Cmd: ['y'], Labels: { b: '2' } });
    assert.deepEqual(c.Cmd, ['y']);
    assert.deepEqual(c.Labels, { a: '1', b: '2' });
    assert.equal(c.User, 'u');
    assert.equal((c as Record<string, unknown>).Hostname, undefined);
  });
});

describe('containers/health rules', () => {
  const t = (code: number) => ({ exitCode: code, output: '', start: new Date(0), end: new Date(1) });
  it('builds the probe command', () => {
    assert.deepEqual(probeCommand({ Test: ['CMD', 'true', 'x'] }), ['true', 'x']);
    assert.deepEqual(probeCommand({ Test: ['CMD-SHELL', 'curl -f x || exit 1'] }), ['/bin/sh', '-c', 'curl -f x || exit 1']);
    assert.equal(probeCommand({ Test: ['NONE'] }), undefined);
    assert.equal(probeCommand(undefined), undefined);
  });
  it('goes healthy on success, unhealthy after retries failures; start period failures do not count', () => {
    let s = { Status: 'starting' as const, FailingStreak: 0, Log: [] };
    const a = applyProbe(s, t(1), { retries: 2, inStartPeriod: true });
    assert.equal(a.FailingStreak, 0);
    assert.equal(a.Status, 'starting');
    const b = applyProbe(a, t(1), { retries: 2, inStartPeriod: false });
    assert.deepEqual([b.Status, b.FailingStreak], ['starting', 1]);
    const c = applyProbe(b, t(1), { retries: 2, inStartPeriod: false });
    assert.deepEqual([c.Status, c.FailingStreak], ['unhealthy', 2]);
    const d = applyProbe(c, t(0), { retries: 2, inStartPeriod: false });
    assert.deepEqual([d.Status, d.FailingStreak], ['healthy', 0]);
    let log = applyProbe(s, t(0), { retries: 3, inStartPeriod: false });
    for (let i = 0; i < 10; i++) log = applyProbe(log, t(0), { retries: 3, inStartPeriod: false });
    assert.equal(log.Log.length, 5, 'keeps the last five results');
    s = { Status: 'starting', FailingStreak: 0, Log: [] };
  });
});

describe('containers/names', () => {
  it('validates names and adds the slash', () => {
    assert.equal(normalizeName('web-1'), '/web-1');
    assert.equal(normalizeName('/web'), '/web');
    assert.throws(() => normalizeName('a'), /Invalid container name/);
    assert.throws(() => normalizeName('bad name'), /Invalid container name/);
  });
  it('generates a free random name, with a suffix after clashes', () => {
    assert.equal(generateName(() => false, () => 'calm_cod'), '/calm_cod');
    const n = generateName((x) => x === '/calm_cod', () => 'calm_cod');
    assert.match(n, /^\/calm_cod\d+$/);
  });
});

describe('containers/HostConfig defaults', () => {
  it('fills what inspect shows as dockerd does', () => {
    const h = hostConfigWithDefaults({ Memory: 64 }, 'default', 'crun');
    assert.equal(h.NetworkMode, 'bridge');
    assert.deepEqual(h.RestartPolicy, { Name: 'no', MaximumRetryCount: 0 });
    assert.equal(h.ShmSize, 64 * 1024 * 1024);
    assert.equal(h.Runtime, 'crun');
    assert.equal(h.IpcMode, 'private');
    assert.deepEqual(h.LogConfig, { Type: 'json-file', Config: {} });
    assert.equal(h.Memory, 64);
    assert.equal(hostConfigWithDefaults({}, 'host', 'runc').NetworkMode, 'host');
  });
});
