import assert from 'node:assert/strict';
import { ShoalCommand } from '../../../../cli/program';
import { addUpdateFlags, type UpdateServiceFlags } from '../../../../cli/opts/service/flags';
import { checkUpdateFlags, updateServiceSpec } from '../../../../cli/opts/service/update';
import type { ServiceSpec } from '../../../../cli/format/swarm-types';

const NETWORKS: Record<string, string> = { front: 'n-front', 'n-front': 'n-front', back: 'n-back', 'n-back': 'n-back', extra: 'n-extra' };
const deps = {
  readFile: () => Buffer.alloc(0),
  lookupEnv: (k: string) => ({ HOME: '/root' })[k],
  resolveNetwork: async (n: string) => {
    if (!(n in NETWORKS)) throw new Error(`network ${n} not found`);
    return NETWORKS[n];
  },
};

/** A spec as the daemon returns it (defaults filled in). */
const CURRENT: ServiceSpec = {
  Name: 'web',
  Labels: { team: 'a', tier: 'front' },
  TaskTemplate: {
    ContainerSpec: {
      Image: 'busybox:1.36@sha256:' + 'a'.repeat(64),
      Labels: { c: '1' },
      Args: ['top'],
      Env: ['A=1', 'B=2'],
      Init: false,
      Mounts: [{ Type: 'volume', Source: 'data', Target: '/data' }],
      StopGracePeriod: 10e9,
      DNSConfig: { Nameservers: ['10.0.0.2'], Search: ['a.org'] },
      Hosts: ['10.0.0.5 db cache', '10.0.0.6 db'],
      CapabilityAdd: ['CAP_NET_ADMIN'],
      Isolation: 'default',
    },
    Resources: { Limits: { MemoryBytes: 64 << 20 }, Reservations: {} },
    RestartPolicy: { Condition: 'any', Delay: 5e9, MaxAttempts: 0 },
    Placement: { Constraints: ['node.role==worker'] },
    Networks: [{ Target: 'n-front' }],
    ForceUpdate: 2,
    Runtime: 'container',
  },
  Mode: { Replicated: { Replicas: 2 } },
  UpdateConfig: { Parallelism: 1, FailureAction: 'pause', Monitor: 5e9, MaxFailureRatio: 0, Order: 'stop-first' },
  EndpointSpec: { Mode: 'vip', Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' }] },
};

function flags(argv: string[]): UpdateServiceFlags {
  const cmd = addUpdateFlags(new ShoalCommand('update').argument('<service>').exitOverride());
  cmd.action(() => undefined);
  cmd.parse([...argv, 'web'], { from: 'user' });
  return cmd.opts() as UpdateServiceFlags;
}

function update(argv: string[], current: ServiceSpec = CURRENT): Promise<ServiceSpec> {
  return updateServiceSpec(current, flags(argv), deps);
}

/** CURRENT with `change` applied to a copy. */
function changed(change: (s: ServiceSpec) => void): ServiceSpec {
  const s = structuredClone(CURRENT);
  change(s);
  return s;
}

const cs = (s: ServiceSpec) => s.TaskTemplate!.ContainerSpec!;

describe('cli service update: flags applied to the current spec', () => {
  it('no flags: the spec goes back unchanged (only --force forces a redeploy)', async () => {
    assert.deepEqual(await update([]), CURRENT);
    assert.deepEqual(await update(['--force']), changed((s) => (s.TaskTemplate!.ForceUpdate = 3)));
  });
  it('does not modify the spec it was given', async () => {
    const before = structuredClone(CURRENT);
    await update(['--env-add', 'C=3', '--label-rm', 'team', '--publish-rm', '80', '--replicas', '5']);
    assert.deepEqual(CURRENT, before);
  });

  const cases: Array<[string, string[], ServiceSpec]> = [
    ['--image (tagged by the client like docker)', ['--image', 'busybox'], changed((s) => (cs(s).Image = 'busybox:latest'))],
    ['--args and --entrypoint as shell words; empty clears', ['--args', 'sleep "1 d"', '--entrypoint', ''], changed((s) => (cs(s).Args = ['sleep', '1 d']))],
    ['--env-add replaces a key in place and appends; --env-rm by key', ['--env-add', 'B=3', '--env-add', 'C=4', '--env-add', 'HOME', '--env-rm', 'A'], changed((s) => (cs(s).Env = ['B=3', 'C=4', 'HOME=/root']))],
    ['--label-add/--label-rm', ['--label-add', 'tier=back', '--label-add', 'new=1', '--label-rm', 'team'], changed((s) => (s.Labels = { tier: 'back', new: '1' }))],
    ['--container-label-add/--container-label-rm', ['--container-label-rm', 'c', '--container-label-add', 'd=2'], changed((s) => (cs(s).Labels = { d: '2' }))],
    ['-w, -u, --hostname; "" clears', ['-w', '/srv', '-u', 'nobody', '--hostname', ''], changed((s) => Object.assign(cs(s), { Dir: '/srv', User: 'nobody' }))],
    ['--mount-add replaces the same target, --mount-rm by target, sorted by source then target', ['--mount-add', 'type=bind,src=/host,dst=/data', '--mount-add', 'type=tmpfs,dst=/tmp'], changed((s) => (cs(s).Mounts = [{ Type: 'tmpfs', Target: '/tmp' }, { Type: 'bind', Source: '/host', Target: '/data' }]))],
    ['--mount-rm', ['--mount-rm', '/data'], changed((s) => delete cs(s).Mounts)],
    ['--limit-* keeps the other limits; 0 clears', ['--limit-cpu', '0.5', '--limit-memory', '0'], changed((s) => (s.TaskTemplate!.Resources!.Limits = { NanoCPUs: 0.5e9 }))],
    ['--reserve-*', ['--reserve-memory', '32m'], changed((s) => (s.TaskTemplate!.Resources!.Reservations = { MemoryBytes: 32 << 20 }))],
    ['--restart-* on top of the current policy', ['--restart-condition', 'none', '--restart-window', '1m'], changed((s) => (s.TaskTemplate!.RestartPolicy = { Condition: 'none', Delay: 5e9, MaxAttempts: 0, Window: 60e9 }))],
    ['--constraint-add/--constraint-rm, sorted', ['--constraint-add', 'node.labels.z==1', '--constraint-add', 'engine.labels.x==y', '--constraint-rm', 'node.role==worker'], changed((s) => (s.TaskTemplate!.Placement!.Constraints = ['engine.labels.x==y', 'node.labels.z==1']))],
    ['--placement-pref-add/--placement-pref-rm', ['--placement-pref-add', 'spread=node.labels.rack'], changed((s) => (s.TaskTemplate!.Placement!.Preferences = [{ Spread: { SpreadDescriptor: 'node.labels.rack' } }]))],
    ['--network-add/--network-rm by name or ID, sorted by ID', ['--network-add', 'back', '--network-rm', 'front', '--network-add', 'name=extra,alias=x'], changed((s) => (s.TaskTemplate!.Networks = [{ Target: 'n-back' }, { Target: 'n-extra', Aliases: ['x'] }]))],
    ['--replicas and --replicas-max-per-node', ['--replicas', '0', '--replicas-max-per-node', '1'], changed((s) => ((s.Mode!.Replicated!.Replicas = 0), (s.TaskTemplate!.Placement!.MaxReplicas = 1)))],
    ['--update-* changes only the given fields', ['--update-parallelism', '3', '--update-delay', '2s', '--update-order', 'start-first'], changed((s) => (s.UpdateConfig = { Parallelism: 3, Delay: 2e9, FailureAction: 'pause', Monitor: 5e9, MaxFailureRatio: 0, Order: 'start-first' }))],
    ['--rollback-* starts from the defaults when there is no rollback config', ['--rollback-monitor', '20s'], changed((s) => (s.RollbackConfig = { Parallelism: 1, FailureAction: 'pause', Monitor: 20e9, MaxFailureRatio: 0, Order: 'stop-first' }))],
    ['--endpoint-mode', ['--endpoint-mode', 'dnsrr'], changed((s) => (s.EndpointSpec!.Mode = 'dnsrr'))],
    ['--publish-rm by target port; --publish-add, sorted', ['--publish-rm', '80', '--publish-add', '9090:90', '--publish-add', 'target=53,protocol=udp'], changed((s) => (s.EndpointSpec!.Ports = [{ Protocol: 'udp', TargetPort: 53, PublishMode: 'ingress' }, { Protocol: 'tcp', TargetPort: 90, PublishedPort: 9090, PublishMode: 'ingress' }]))],
    ['--publish-add of a port that is there changes nothing', ['--publish-add', '8080:80'], CURRENT],
    ['--group-add/--group-rm', ['--group-add', 'video', '--group-add', 'audio', '--group-rm', 'video'], changed((s) => (cs(s).Groups = ['audio']))],
    ['--dns-add/--dns-rm/--dns-search-add/--dns-option-add, sorted', ['--dns-add', '10.0.0.1', '--dns-add', 'fd00::1', '--dns-rm', '10.0.0.2', '--dns-search-add', '0.org', '--dns-option-add', 'ndots:1'], changed((s) => (cs(s).DNSConfig = { Nameservers: ['10.0.0.1', 'fd00::1'], Search: ['0.org', 'a.org'], Options: ['ndots:1'] }))],
    ['--host-rm host (everywhere) or host:ip (that line), --host-add appends', ['--host-rm', 'cache', '--host-rm', 'db:10.0.0.6', '--host-add', 'web:10.0.0.9'], changed((s) => (cs(s).Hosts = ['10.0.0.5 db', '10.0.0.9 web']))],
    ['--sysctl-add/--sysctl-rm, --ulimit-add/--ulimit-rm', ['--sysctl-add', 'net.ipv4.ip_forward=1', '--ulimit-add', 'nproc=10', '--ulimit-add', 'core=0'], changed((s) => ((cs(s).Sysctls = { 'net.ipv4.ip_forward': '1' }), (cs(s).Ulimits = [{ Name: 'core', Soft: 0, Hard: 0 }, { Name: 'nproc', Soft: 10, Hard: 10 }])))],
    ['--cap-drop of an added capability un-adds it; --cap-add of a new one adds it', ['--cap-drop', 'net_admin', '--cap-add', 'SYS_TIME'], changed((s) => (cs(s).CapabilityAdd = ['CAP_SYS_TIME']))],
    ['--cap-drop of a capability not added drops it', ['--cap-drop', 'mknod'], changed((s) => (cs(s).CapabilityDrop = ['CAP_MKNOD']))],
    ['--health-cmd starts a health check; --health-retries sets one field', ['--health-cmd', 'true', '--health-retries', '2'], changed((s) => (cs(s).Healthcheck = { Test: ['CMD-SHELL', 'true'], Retries: 2 }))],
    ['--no-healthcheck', ['--no-healthcheck'], changed((s) => (cs(s).Healthcheck = { Test: ['NONE'] }))],
    ['--tty, --read-only, --init; "=false" forms turn them off', ['-t', '--read-only', '--init=false'], changed((s) => ((cs(s).TTY = true), (cs(s).ReadOnly = true), (cs(s).Init = false)))],
    ['--stop-grace-period, --stop-signal, --log-driver', ['--stop-grace-period', '0s', '--stop-signal', 'SIGQUIT', '--log-driver', 'json-file', '--log-opt', 'max-file=2'], changed((s) => ((cs(s).StopGracePeriod = 0), (cs(s).StopSignal = 'SIGQUIT'), (s.TaskTemplate!.LogDriver = { Name: 'json-file', Options: { 'max-file': '2' } })))],
    ['--rollback alone (with -d/-q) sends the spec unchanged', ['--rollback', '-d', '-q'], CURRENT],
  ];
  for (const [name, argv, want] of cases) it(name, async () => assert.deepEqual(await update(argv), want));

  it('a health check already turned off is turned on by --health-cmd', async () => {
    const off = changed((s) => (cs(s).Healthcheck = { Test: ['NONE'], Interval: 1e9 }));
    assert.deepEqual(cs(await update(['--health-cmd', 'curl -f localhost'], off)).Healthcheck, { Test: ['CMD-SHELL', 'curl -f localhost'], Interval: 1e9 });
  });
  it('--max-concurrent on a replicated job', async () => {
    const job = changed((s) => (s.Mode = { ReplicatedJob: { MaxConcurrent: 1, TotalCompletions: 4 } }));
    assert.deepEqual((await update(['--max-concurrent', '2'], job)).Mode, { ReplicatedJob: { MaxConcurrent: 2, TotalCompletions: 4 } });
  });

  const errors: Array<[string[], RegExp]> = [
    [['--rollback', '--image', 'x'], /other flags may not be combined with --rollback/],
    [['--network-add', 'front'], /service is already attached to network front/],
    [['--network-add', 'nope'], /network nope not found/],
    [['--mount-add', 'type=tmpfs,dst=/x', '--mount-add', 'type=bind,src=/y,dst=/x'], /duplicate mount target/],
    [['--max-concurrent', '2'], /max-concurrent can only be used with replicated-job mode/],
    [['--no-healthcheck', '--health-retries', '1'], /--no-healthcheck conflicts with --health-\* options/],
    [['--health-timeout', '-1s'], /invalid argument "-1s" for "--health-timeout" flag: duration cannot be negative/],
    [['--update-monitor', 'soon'], /invalid argument "soon" for "--update-monitor" flag/],
    [['--publish-add', 'target=0'], /missing mandatory field 'target'/],
    [['--dns-add', '300.1.1.1'], /"--dns-add" flag: IP address is not correctly formatted/],
    [['--label-add', '=v'], /invalid label '=v': empty name/],
    [['--replicas', 'many'], /invalid argument "many" for "--replicas" flag/],
  ];
  for (const [argv, re] of errors) it(`rejects ${argv.join(' ')}`, async () => assert.rejects(update(argv), re));

  it('--replicas on a global service', async () => {
    await assert.rejects(
      update(['--replicas', '2'], changed((s) => (s.Mode = { Global: {} }))),
      /replicas can only be used with replicated mode/,
    );
  });

  it('flag values are checked before the service is read (nothing is sent for a bad value)', async () => {
    await assert.rejects(checkUpdateFlags(flags(['--update-delay', '1']), deps), /invalid argument "1" for "--update-delay" flag/);
    await assert.rejects(checkUpdateFlags(flags(['--publish-add', 'x:y']), deps), /"--publish-add" flag/);
    // what depends on the service itself is left to the real update
    await checkUpdateFlags(flags(['--max-concurrent', '2', '--replicas', '3', '--network-add', 'anything', '--label-rm', 'nope']), deps);
  });
});
