import assert from 'node:assert/strict';
import { CommanderError } from 'commander';
import { DEFAULT_HOST, HostError, normalizeHost, resolveHost } from '../../../cli/host';
import { describeError, ExitError, UsageError } from '../../../cli/errors';
import { ApiError } from '../../../shared/client';
import { ShoalError } from '../../../shared/errors';
import { FlagError, OptionError } from '../../../cli/opts/errors';
import { StreamError } from '../../../cli/format/progress';
import { familiarName, familiarString, parseRef, refName, ReferenceError } from '../../../cli/reference';
import { consolidateIpam } from '../../../cli/opts/ipam';
import { apiTimestamp } from '../../../cli/opts/time';
import { filtersJson, addFilter } from '../../../cli/opts/filters';
import { rewriteBooleans, ShoalCommand } from '../../../cli/program';
import { buildArgs } from '../../../cli/commands/build';
import { isArchive, tarEntry } from '../../../cli/io/buildcontext';
import { parseDetachKeys } from '../../../cli/io/attach';

describe('cli host resolution', () => {
  it('-H wins, then SHOAL_HOST, then DOCKER_HOST, then the default socket', () => {
    const env = { SHOAL_HOST: 'unix:///s.sock', DOCKER_HOST: 'unix:///d.sock' };
    assert.equal(resolveHost('unix:///h.sock', env), 'unix:///h.sock');
    assert.equal(resolveHost(undefined, env), 'unix:///s.sock');
    assert.equal(resolveHost(undefined, { DOCKER_HOST: 'unix:///d.sock' }), 'unix:///d.sock');
    assert.equal(resolveHost(undefined, { SHOAL_HOST: '', DOCKER_HOST: '' }), DEFAULT_HOST);
    assert.equal(DEFAULT_HOST, 'unix:///run/shoal/shoal.sock');
  });
  it('normalises addresses and rejects bad ones', () => {
    assert.equal(normalizeHost('/run/x.sock'), 'unix:///run/x.sock');
    assert.equal(normalizeHost('tcp://127.0.0.1'), 'tcp://127.0.0.1:2375');
    assert.equal(normalizeHost('tcp://localhost:2376'), 'tcp://localhost:2376');
    assert.throws(() => normalizeHost('ssh://x'), HostError);
    assert.throws(() => normalizeHost('unix://'), HostError);
    assert.throws(() => normalizeHost('tcp://h:99999'), HostError);
  });
});

describe('cli error -> message and exit code', () => {
  const ctx = { host: 'unix:///run/shoal/shoal.sock', runLike: false, command: 'ps' };
  const run = { ...ctx, runLike: true, command: 'run' };
  it('daemon refusals', () => {
    assert.deepEqual(describeError(new ApiError(404, 'No such container: x'), ctx), { message: 'Error response from daemon: No such container: x', code: 1 });
    assert.deepEqual(describeError(new ApiError(409, 'name in use'), run), { message: 'shoal: Error response from daemon: name in use', code: 125 });
    assert.deepEqual(describeError(new ApiError(503, 'busy'), ctx), { message: 'Error response from daemon: busy', code: 1 });
  });
  it('a daemon that is down', () => {
    const down = new ShoalError('UNAVAILABLE', 'cannot reach shoald at x: connect ENOENT');
    assert.deepEqual(describeError(down, ctx), { message: 'Cannot connect to the shoal daemon at unix:///run/shoal/shoal.sock. Is shoald running?', code: 1 });
    assert.deepEqual(describeError(down, run), { message: 'shoal: Cannot connect to the shoal daemon at unix:///run/shoal/shoal.sock. Is shoald running?', code: 125 });
  });
  it('flag, option and usage errors', () => {
    assert.deepEqual(describeError(new FlagError('-m, --memory', '12x', "invalid size: '12x'"), run), { message: `invalid argument "12x" for "-m, --memory" flag: invalid size: '12x'\nSee 'shoal run --help'.`, code: 125 });
    assert.deepEqual(describeError(new OptionError('invalid hostPort: 99999'), run), { message: "shoal: invalid hostPort: 99999\nSee 'shoal run --help'.", code: 125 });
    assert.deepEqual(describeError(new UsageError(1, new CommanderError(1, 'commander.unknownOption', "error: unknown option '--x'")), ctx), { code: 1 });
    assert.deepEqual(describeError(new UsageError(125, new CommanderError(1, 'commander.unknownOption', 'x')), run), { code: 125 });
    assert.deepEqual(describeError(new CommanderError(0, 'commander.helpDisplayed', ''), ctx), { code: 0 });
  });
  it('explicit exits, stream errors and anything else without a stack', () => {
    assert.deepEqual(describeError(new ExitError(127), run), { message: undefined, code: 127 });
    assert.deepEqual(describeError(new ExitError(1, 'boom'), ctx), { message: 'boom', code: 1 });
    assert.deepEqual(describeError(new StreamError('pull access denied'), ctx), { message: 'pull access denied', code: 1 });
    assert.deepEqual(describeError(new TypeError('x is not a function'), ctx), { message: 'x is not a function', code: 1 });
    assert.deepEqual(describeError('weird', ctx), { message: 'weird', code: 1 });
  });
});

describe('cli image references', () => {
  const cases: Array<[string, string, string | undefined, string]> = [
    ['busybox', 'docker.io/library/busybox', undefined, 'busybox'],
    ['busybox:1.36', 'docker.io/library/busybox', '1.36', 'busybox:1.36'],
    ['foo/bar:x', 'docker.io/foo/bar', 'x', 'foo/bar:x'],
    ['localhost:5000/img', 'localhost:5000/img', undefined, 'localhost:5000/img'],
    ['127.0.0.1:5000/a/b:t', '127.0.0.1:5000/a/b', 't', '127.0.0.1:5000/a/b:t'],
    ['docker.io/library/busybox:latest', 'docker.io/library/busybox', 'latest', 'busybox:latest'],
  ];
  for (const [input, name, tag, familiar] of cases)
    it(input, () => {
      const r = parseRef(input);
      assert.equal(refName(r), name);
      assert.equal(r.tag, tag);
      assert.equal(familiarString(r), familiar);
    });
  it('digests and errors', () => {
    const r = parseRef(`busybox@sha256:${'a'.repeat(64)}`);
    assert.equal(r.digest, `sha256:${'a'.repeat(64)}`);
    assert.equal(familiarName(r), 'busybox');
    assert.throws(() => parseRef('UPPER'), (e: unknown) => e instanceof ReferenceError && /must be lowercase/.test(e.message));
    assert.throws(() => parseRef('a b'), /invalid reference format/);
    assert.throws(() => parseRef(''), /invalid reference format/);
    assert.throws(() => parseRef('x:bad tag'), /invalid reference format/);
  });
});

describe('cli network IPAM flags', () => {
  it('pairs ranges and gateways with their subnet', () => {
    assert.deepEqual(consolidateIpam(['10.5.0.0/16', 'fd00::/64'], ['10.5.1.0/24'], ['10.5.0.1', 'fd00::1'], { host1: '10.5.0.5' }), [
      { Subnet: '10.5.0.0/16', IPRange: '10.5.1.0/24', Gateway: '10.5.0.1', AuxiliaryAddresses: { host1: '10.5.0.5' } },
      { Subnet: 'fd00::/64', Gateway: 'fd00::1' },
    ]);
    assert.deepEqual(consolidateIpam([], [], [], {}), []);
  });
  const bad: Array<[string[], string[], string[], RegExp]> = [
    [[], [], ['10.0.0.1'], /every ip-range or gateway must have a corresponding subnet/],
    [['10.0.0.0/24'], [], ['10.1.0.1'], /no matching subnet for gateway 10.1.0.1/],
    [['10.0.0.0/24'], ['10.1.0.0/28'], [], /no matching subnet for range 10.1.0.0\/28/],
    [['10.0.0.0/16', '10.0.1.0/24'], [], [], /multiple overlapping subnet configuration is not supported/],
    [['10.0.0.0/33'], [], [], /invalid CIDR address: 10.0.0.0\/33/],
    [['10.0.0.0/24', '10.1.0.0/24'], [], ['10.0.0.1', '10.0.0.2'], /cannot configure multiple gateways/],
  ];
  for (const [s, r, g, re] of bad) it(`rejects ${[...s, ...r, ...g].join(' ')}`, () => assert.throws(() => consolidateIpam(s, r, g, {}), re));
});

describe('cli since/until and filters', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  it('durations are relative to now; dates and unix times are absolute', () => {
    assert.equal(apiTimestamp('10m', now), String(now / 1000 - 600));
    assert.equal(apiTimestamp('1h30m', now), String(now / 1000 - 5400));
    assert.equal(apiTimestamp('1704189600', now), '1704189600');
    assert.equal(apiTimestamp('1704189600.5', now), '1704189600.5');
    assert.equal(apiTimestamp('2024-01-02T10:00:00Z', now), '1704189600.000000000');
    assert.equal(apiTimestamp('2024-01-02T10:00:00.25Z', now), '1704189600.250000000');
    assert.throws(() => apiTimestamp('yesterday', now), /failed to parse value as time or duration: "yesterday"/);
  });
  it('filters as docker sends them', () => {
    assert.equal(filtersJson(['status=exited', 'name=x', 'status=created']), '{"status":{"exited":true,"created":true},"name":{"x":true}}');
    assert.equal(filtersJson([]), undefined);
    assert.throws(() => filtersJson(['novalue']), /invalid argument "novalue" for "-f, --filter" flag: bad format of filter \(expected name=value\)/);
    assert.equal(addFilter(undefined, 'dangling', 'true'), '{"dangling":{"true":true}}');
  });
});

describe('cli boolean flags in docker form', () => {
  const cmd = new ShoalCommand('x').option('--rm').option('-d, --detach').option('--no-sig-proxy').option('--name <n>').option('-e, --env <e>');
  it('rewrites --flag=true|false up to the first operand of a pass-through command', () => {
    assert.deepEqual(rewriteBooleans(cmd.options, ['--rm=true', '--detach=false', '--sig-proxy=false', '--name', '--rm=false', 'img', '--rm=false'], true), ['--rm', '--no-sig-proxy', '--name', '--rm=false', 'img', '--rm=false']);
    assert.deepEqual(rewriteBooleans(cmd.options, ['-e', 'X', '--sig-proxy', '--sig-proxy=true', 'a', '--rm=1'], false), ['-e', 'X', 'a', '--rm']);
    assert.deepEqual(rewriteBooleans(cmd.options, ['-de', '--rm=false', 'img'], true), ['-de', '--rm=false', 'img']);
  });
});

describe('cli build helpers', () => {
  it('--build-arg: values, caller\'s environment, or null', () => {
    assert.deepEqual(buildArgs(['A=1', 'HOME', 'UNSET', 'B=x=y'], (k) => (k === 'HOME' ? '/root' : undefined)), { A: '1', HOME: '/root', UNSET: null, B: 'x=y' });
    assert.throws(() => buildArgs(['=x'], () => undefined), /--build-arg/);
  });
  it('recognises archives and writes tar entries', () => {
    const entry = tarEntry('Dockerfile', Buffer.from('FROM busybox\n'));
    assert.equal(entry.length, 1024);
    assert.equal(entry.subarray(0, 10).toString(), 'Dockerfile');
    assert.ok(isArchive(Buffer.concat([entry, Buffer.alloc(1024)])));
    assert.ok(isArchive(Buffer.from([0x1f, 0x8b, 8, 0])));
    assert.ok(!isArchive(Buffer.from('FROM busybox\nRUN true\n')));
  });
});

describe('cli detach keys', () => {
  it('parses docker\'s key syntax', () => {
    assert.deepEqual(parseDetachKeys('ctrl-p,ctrl-q'), [16, 17]);
    assert.deepEqual(parseDetachKeys('a,ctrl-@,ctrl-[,ctrl-\\,ctrl-_'), [97, 0, 27, 28, 31]);
    assert.throws(() => parseDetachKeys('ctrl-1'), /Invalid detach keys \(ctrl-1\) provided/);
  });
});
