import assert from 'node:assert/strict';
import { ShoalCommand } from '../../../../cli/program';
import { addCreateFlags, type CreateServiceFlags } from '../../../../cli/opts/service/flags';
import { buildServiceSpec } from '../../../../cli/opts/service/create';
import type { ServiceSpec } from '../../../../cli/format/swarm-types';

const files: Record<string, string> = { '/env.list': '# comment\nFROM_FILE=1\nA=file\nBARE\n' };
const deps = {
  readFile: (p: string) => {
    if (!(p in files)) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    return Buffer.from(files[p]);
  },
  lookupEnv: (k: string) => ({ HOME: '/root', BARE: 'from-env' })[k],
};

/** Parse a `service create` command line with the real flag definitions, then build the spec. */
function create(argv: string[]): ServiceSpec {
  const cmd = addCreateFlags(new ShoalCommand('create').argument('<image>').argument('[command...]').passThroughOptions().exitOverride());
  let image = '';
  let args: string[] = [];
  cmd.action((i: string, a: string[]) => {
    image = i;
    args = a;
  });
  cmd.parse(argv, { from: 'user' });
  return buildServiceSpec(cmd.opts() as CreateServiceFlags, image, args, deps);
}

/** What docker sends for `docker service create busybox`: only the fields it always sends. */
const BASE: ServiceSpec = {
  Labels: {},
  TaskTemplate: {
    ContainerSpec: { Image: 'busybox:latest', Init: false, DNSConfig: {} },
    Resources: { Limits: {}, Reservations: {} },
    Placement: {},
    ForceUpdate: 0,
  },
  Mode: { Replicated: {} },
  EndpointSpec: { Mode: 'vip' },
};

/** BASE with `patch` applied to its container spec, task template and top level. */
function expected(patch: { cs?: object; task?: object; top?: object }): ServiceSpec {
  const s = structuredClone(BASE);
  Object.assign(s.TaskTemplate!.ContainerSpec!, patch.cs ?? {});
  Object.assign(s.TaskTemplate!, patch.task ?? {});
  Object.assign(s, patch.top ?? {});
  return s;
}

describe('cli service create: flags to ServiceSpec', () => {
  it('no flags: only what docker always sends, the image tagged :latest', () => {
    assert.deepEqual(create(['busybox']), BASE);
  });

  const cases: Array<[string, string[], ServiceSpec]> = [
    ['command and args after the image are the container args, flags there included', ['busybox', 'sh', '-c', 'echo --replicas 3'], expected({ cs: { Args: ['sh', '-c', 'echo --replicas 3'] } })],
    ['--name and labels', ['--name', 'web', '-l', 'a=1', '--label', 'b', 'busybox'], expected({ top: { Name: 'web', Labels: { a: '1', b: '' } } })],
    ['-e, --env-file: files first, later keys win, bare names from the environment', ['--env-file', '/env.list', '-e', 'A=flag', '-e', 'HOME', '-e', 'UNSET', 'busybox'], expected({ cs: { Env: ['FROM_FILE=1', 'BARE=from-env', 'A=flag', 'HOME=/root', 'UNSET'] } })],
    ['-w, -u, --hostname, --stop-signal, --stop-grace-period', ['-w', '/app', '-u', '1000:1000', '--hostname', 'h', '--stop-signal', 'SIGINT', '--stop-grace-period', '1m30s', 'busybox'], expected({ cs: { Dir: '/app', User: '1000:1000', Hostname: 'h', StopSignal: 'SIGINT', StopGracePeriod: 90e9 } })],
    ['--entrypoint is split into words like a shell does', ['--entrypoint', `sh -c 'echo "a b"' x\\ y`, 'busybox'], expected({ cs: { Command: ['sh', '-c', 'echo "a b"', 'x y'] } })],
    ['--container-label', ['--container-label', 'c=d', 'busybox'], expected({ cs: { Labels: { c: 'd' } } })],
    ['--mount in docker\'s csv syntax', ['--mount', 'type=volume,src=data,dst=/data,readonly', '--mount', 'type=tmpfs,dst=/tmp,tmpfs-size=64m', 'busybox'], expected({ cs: { Mounts: [{ Type: 'volume', Source: 'data', Target: '/data', ReadOnly: true }, { Type: 'tmpfs', Target: '/tmp', TmpfsOptions: { SizeBytes: 64 * 1024 * 1024 } }] } })],
    ['--constraint, --placement-pref, --replicas-max-per-node', ['--constraint', 'node.role==worker', '--constraint', 'node.labels.zone!=b', '--placement-pref', 'spread=node.labels.zone', '--replicas-max-per-node', '2', 'busybox'], expected({ task: { Placement: { Constraints: ['node.role==worker', 'node.labels.zone!=b'], Preferences: [{ Spread: { SpreadDescriptor: 'node.labels.zone' } }], MaxReplicas: 2 } } })],
    ['--limit-* and --reserve-*: sizes and CPUs as docker parses them', ['--limit-cpu', '1.5', '--limit-memory', '512m', '--limit-pids', '100', '--reserve-cpu', '0.25', '--reserve-memory', '1g', 'busybox'], expected({ task: { Resources: { Limits: { NanoCPUs: 1.5e9, MemoryBytes: 512 * 1024 ** 2, Pids: 100 }, Reservations: { NanoCPUs: 0.25e9, MemoryBytes: 1024 ** 3 } } } })],
    ['one --restart-* flag brings swarmkit\'s restart defaults with it', ['--restart-max-attempts', '3', 'busybox'], expected({ task: { RestartPolicy: { Condition: 'any', Delay: 5e9, MaxAttempts: 3 } } })],
    ['all --restart-* flags', ['--restart-condition', 'on-failure', '--restart-delay', '500ms', '--restart-max-attempts', '0', '--restart-window', '2m', 'busybox'], expected({ task: { RestartPolicy: { Condition: 'on-failure', Delay: 500e6, MaxAttempts: 0, Window: 120e9 } } })],
    ['one --update-* flag brings the update defaults (zero delay left out)', ['--update-parallelism', '2', 'busybox'], expected({ top: { UpdateConfig: { Parallelism: 2, FailureAction: 'pause', Monitor: 5e9, MaxFailureRatio: 0, Order: 'stop-first' } } })],
    ['all --update-* flags', ['--update-parallelism', '0', '--update-delay', '10s', '--update-monitor', '1m', '--update-failure-action', 'rollback', '--update-max-failure-ratio', '0.25', '--update-order', 'start-first', 'busybox'], expected({ top: { UpdateConfig: { Parallelism: 0, Delay: 10e9, FailureAction: 'rollback', Monitor: 60e9, MaxFailureRatio: 0.25, Order: 'start-first' } } })],
    ['--rollback-* flags', ['--rollback-delay', '1s', '--rollback-failure-action', 'continue', 'busybox'], expected({ top: { RollbackConfig: { Parallelism: 1, Delay: 1e9, FailureAction: 'continue', Monitor: 5e9, MaxFailureRatio: 0, Order: 'stop-first' } } })],
    ['--health-* flags (durations in nanoseconds)', ['--health-cmd', 'wget -q localhost', '--health-interval', '5s', '--health-timeout', '2s', '--health-retries', '3', '--health-start-period', '1s', 'busybox'], expected({ cs: { Healthcheck: { Test: ['CMD-SHELL', 'wget -q localhost'], Interval: 5e9, Timeout: 2e9, StartPeriod: 1e9, Retries: 3 } } })],
    ['--no-healthcheck', ['--no-healthcheck', 'busybox'], expected({ cs: { Healthcheck: { Test: ['NONE'] } } })],
    ['-p short and long syntax', ['-p', '8080:80', '-p', 'published=53,target=53,protocol=udp,mode=host', '-p', '443', 'busybox'], expected({ top: { EndpointSpec: { Mode: 'vip', Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' }, { Protocol: 'udp', TargetPort: 53, PublishedPort: 53, PublishMode: 'host' }, { Protocol: 'tcp', TargetPort: 443, PublishMode: 'ingress' }] } } })],
    ['--endpoint-mode dnsrr', ['--endpoint-mode', 'dnsrr', 'busybox'], expected({ top: { EndpointSpec: { Mode: 'dnsrr' } } })],
    ['--network names (resolved to IDs by the command) and long syntax', ['--network', 'front', '--network', 'name=back,alias=db,driver-opt=k=v', 'busybox'], expected({ task: { Networks: [{ Target: 'front' }, { Target: 'back', Aliases: ['db'], DriverOpts: { k: 'v' } }] } })],
    ['--tty, --read-only, --init', ['-t', '--read-only', '--init', 'busybox'], expected({ cs: { Init: true, TTY: true, ReadOnly: true } })],
    ['--dns*, --host, --group', ['--dns', '10.0.0.2', '--dns-search', 'example.org', '--dns-option', 'ndots:2', '--host', 'db:10.0.0.5', '--group', 'audio', 'busybox'], expected({ cs: { Groups: ['audio'], Hosts: ['10.0.0.5 db'], DNSConfig: { Nameservers: ['10.0.0.2'], Search: ['example.org'], Options: ['ndots:2'] } } })],
    ['--cap-add/--cap-drop, --sysctl, --ulimit, --oom-score-adj', ['--cap-add', 'net_admin', '--cap-drop', 'CAP_MKNOD', '--sysctl', 'net.core.somaxconn=1024', '--ulimit', 'nofile=1024:2048', '--oom-score-adj', '-500', 'busybox'], expected({ cs: { Sysctls: { 'net.core.somaxconn': '1024' }, CapabilityAdd: ['CAP_NET_ADMIN'], CapabilityDrop: ['CAP_MKNOD'], Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 2048 }], OomScoreAdj: -500 } })],
    ['--log-driver and --log-opt', ['--log-driver', 'json-file', '--log-opt', 'max-size=10m', 'busybox'], expected({ task: { LogDriver: { Name: 'json-file', Options: { 'max-size': '10m' } } } })],
    ['--replicas', ['--replicas', '3', 'busybox'], expected({ top: { Mode: { Replicated: { Replicas: 3 } } } })],
    ['--mode global', ['--mode', 'global', 'busybox'], expected({ top: { Mode: { Global: {} } } })],
    ['--mode replicated-job: --max-concurrent defaults to --replicas', ['--mode', 'replicated-job', '--replicas', '5', 'busybox'], expected({ top: { Mode: { ReplicatedJob: { MaxConcurrent: 5, TotalCompletions: 5 } } } })],
    ['--mode replicated-job with --max-concurrent', ['--mode', 'replicated-job', '--replicas', '5', '--max-concurrent', '2', 'busybox'], expected({ top: { Mode: { ReplicatedJob: { MaxConcurrent: 2, TotalCompletions: 5 } } } })],
    ['--mode global-job', ['--mode', 'global-job', 'busybox'], expected({ top: { Mode: { GlobalJob: {} } } })],
    ['flags accepted for compatibility change nothing', ['-d', '-q', '--with-registry-auth', '--no-resolve-image', 'busybox'], BASE],
    ['images keep their registry, tag and digest', ['localhost:5000/app:v2'], expected({ cs: { Image: 'localhost:5000/app:v2' } })],
  ];
  for (const [name, argv, want] of cases) it(name, () => assert.deepEqual(create(argv), want));

  const errors: Array<[string[], RegExp]> = [
    [['--replicas', '-1', 'busybox'], /invalid argument "-1" for "--replicas" flag: strconv.ParseUint: parsing "-1": invalid syntax$/],
    [['--stop-grace-period', '10', 'busybox'], /invalid argument "10" for "--stop-grace-period" flag: time: missing unit in duration "10"$/],
    [['--restart-delay', '5x', 'busybox'], /invalid argument "5x" for "--restart-delay" flag: time: unknown unit "x"/],
    [['--health-interval', '-5s', 'busybox'], /--health-interval cannot be negative/],
    [['--limit-memory', '12x', 'busybox'], /invalid argument "12x" for "--limit-memory" flag: invalid size: '12x'/],
    [['--limit-cpu', 'two', 'busybox'], /invalid argument "two" for "--limit-cpu" flag: failed to parse two as a rational number/],
    [['--update-max-failure-ratio', 'x', 'busybox'], /invalid argument "x" for "--update-max-failure-ratio" flag: strconv.ParseFloat/],
    [['--update-max-failure-ratio', '1.5', 'busybox'], /--update-max-failure-ratio" flag: must be between 0 and 1/],
    [['--restart-condition', 'always', 'busybox'], /invalid argument "always" for "--restart-condition" flag: must be one of "none", "on-failure", "any"/],
    [['--update-failure-action', 'explode', 'busybox'], /--update-failure-action" flag: must be one of "pause", "continue", "rollback"/],
    [['--rollback-failure-action', 'rollback', 'busybox'], /--rollback-failure-action" flag: must be one of "pause", "continue"/],
    [['--update-order', 'random', 'busybox'], /--update-order/],
    [['--endpoint-mode', 'rr', 'busybox'], /--endpoint-mode/],
    [['--mode', 'daemon', 'busybox'], /unknown mode: daemon, only replicated and global supported$/],
    [['--mode', 'global', '--replicas', '2', 'busybox'], /replicas can only be used with replicated or replicated-job mode/],
    [['--mode', 'global', '--replicas-max-per-node', '2', 'busybox'], /replicas-max-per-node can only be used with replicated or replicated-job mode/],
    [['--max-concurrent', '2', 'busybox'], /max-concurrent can only be used with replicated-job mode/],
    [['--mode', 'replicated-job', '--update-delay', '1s', 'busybox'], /update and rollback configuration is not supported for jobs/],
    [['--no-healthcheck', '--health-cmd', 'true', 'busybox'], /--no-healthcheck conflicts with --health-\* options/],
    [['-p', '1.2.3.4:80:80', 'busybox'], /invalid argument "1.2.3.4:80:80" for "-p, --publish" flag: hostip is not supported/],
    [['-p', 'published=80', 'busybox'], /"-p, --publish" flag: missing mandatory field 'target'/],
    [['-p', 'target=80,mode=bridge', 'busybox'], /invalid publish mode value \(bridge\): must be either 'ingress' or 'host'/],
    [['-p', 'target=99999', 'busybox'], /invalid target port \(99999\): value must be an integer: value out of range/],
    [['-p', 'x:80', 'busybox'], /"-p, --publish" flag: invalid hostPort: x/],
    [['--placement-pref', 'binpack=x', 'busybox'], /unsupported placement preference binpack \(only spread is supported\)/],
    [['--placement-pref', 'spread', 'busybox'], /placement preference must be of the format "<strategy>=<arg>"/],
    [['--mount', 'type=bind,src=/a', 'busybox'], /"--mount" flag: target is required/],
    [['--network', 'alias=x', 'busybox'], /network name\/id is not specified/],
    [['--entrypoint', '"unterminated', 'busybox'], /"--entrypoint" flag: EOF found when expecting closing quote/],
    [['--dns', 'not-an-ip', 'busybox'], /"--dns" flag: IP address is not correctly formatted/],
    [['--host', 'nocolon', 'busybox'], /"--host" flag: bad format for add-host/],
    [['-l', '=x', 'busybox'], /invalid label '=x': empty name/],
    [['--env-file', '/missing', 'busybox'], /open \/missing: no such file or directory/],
  ];
  for (const [argv, re] of errors) it(`rejects ${argv.slice(0, -1).join(' ')}`, () => assert.throws(() => create(argv), re));
});
