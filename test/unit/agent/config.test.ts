import assert from 'node:assert/strict';
import { isShoalError } from '../../../shared/errors';
import type { Engine } from '../../../worker/engine/engine';
import { containerConfigFor, stopGraceSeconds, taskContainerName, taskImage, type AgentTask, type TaskEngine } from '../../../worker/agent/tasks';

// The daemon hands its Engine to the task manager as it is.
export const engineIsATaskEngine = (e: Engine): TaskEngine => e;

const node = { ID: 'node1' };

function task(over: Partial<AgentTask> = {}, spec: NonNullable<AgentTask['Spec']['ContainerSpec']> = { Image: 'busybox' }): AgentTask {
  return {
    ID: 'task1',
    ServiceID: 'svc1',
    ServiceAnnotations: { Name: 'web' },
    Slot: 2,
    NodeID: 'node1',
    Spec: { ContainerSpec: spec },
    Status: { State: 'assigned' },
    DesiredState: 'running',
    ...over,
  };
}

describe('agent/tasks containerConfigFor', () => {
  it('names replicated tasks <service>.<slot>.<task>, global ones <service>.<node>.<task>', () => {
    const cases: Array<[Partial<AgentTask>, string]> = [
      [{}, 'web.2.task1'],
      [{ Slot: 0 }, 'web.node1.task1'],
      [{ Slot: undefined, NodeID: 'n9' }, 'web.n9.task1'],
      [{ Slot: undefined, NodeID: undefined }, 'web.node1.task1'],
      [{ ServiceAnnotations: undefined }, 'svc1.2.task1'],
      [{ Name: 'custom' }, 'custom'],
    ];
    for (const [over, want] of cases) {
      assert.equal(taskContainerName(task(over), node), want);
      assert.equal(containerConfigFor(task(over), node).name, want);
    }
  });

  it('labels the container with the spec labels, the stack namespace and the swarm system labels', () => {
    const t = task(
      { Labels: { fromTask: 'y', 'com.docker.swarm.task.id': 'forged' }, ServiceAnnotations: { Name: 'web', Labels: { 'com.docker.stack.namespace': 'shop', other: 'no' } } },
      { Image: 'busybox', Labels: { app: 'x', fromTask: 'spec' } },
    );
    assert.deepEqual(containerConfigFor(t, node).body.Labels, {
      app: 'x',
      fromTask: 'y',
      'com.docker.stack.namespace': 'shop',
      'com.docker.swarm.task': '',
      'com.docker.swarm.task.id': 'task1',
      'com.docker.swarm.task.name': 'web.2.task1',
      'com.docker.swarm.node.id': 'node1',
      'com.docker.swarm.service.id': 'svc1',
      'com.docker.swarm.service.name': 'web',
    });
    assert.equal(containerConfigFor(task(), node).body.Labels!['com.docker.stack.namespace'], undefined);
  });

  it('maps ContainerSpec fields onto the create body', () => {
    const cases: Array<{ name: string; spec: Record<string, unknown>; want: Record<string, unknown>; hc?: Record<string, unknown> }> = [
      { name: 'image gets a tag', spec: { Image: 'busybox' }, want: { Image: 'busybox:latest' } },
      { name: 'image keeps its registry and digest', spec: { Image: `127.0.0.1:5000/a/b@sha256:${'a'.repeat(64)}` }, want: { Image: `127.0.0.1:5000/a/b@sha256:${'a'.repeat(64)}` } },
      { name: 'Command replaces the entrypoint', spec: { Image: 'x', Command: ['sh', '-c'], Args: ['echo hi'] }, want: { Entrypoint: ['sh', '-c'], Cmd: ['echo hi'] } },
      { name: 'Args alone feed the entrypoint', spec: { Image: 'x', Args: ['sleep', '1'] }, want: { Entrypoint: undefined, Cmd: ['sleep', '1'] } },
      { name: 'Env, Dir, User, Hostname', spec: { Image: 'x', Env: ['A=1'], Dir: '/w', User: 'nobody', Hostname: 'h1' }, want: { Env: ['A=1'], WorkingDir: '/w', User: 'nobody', Hostname: 'h1' } },
      { name: 'TTY and OpenStdin', spec: { Image: 'x', TTY: true, OpenStdin: true }, want: { Tty: true, OpenStdin: true } },
      { name: 'StopSignal and StopGracePeriod (rounded up to seconds)', spec: { Image: 'x', StopSignal: 'SIGINT', StopGracePeriod: 1_500_000_000 }, want: { StopSignal: 'SIGINT', StopTimeout: 2 } },
      { name: 'default grace period is 10 s', spec: { Image: 'x' }, want: { StopTimeout: 10 } },
      {
        name: 'Healthcheck passes through',
        spec: { Image: 'x', Healthcheck: { Test: ['CMD', 'true'], Interval: 1e9, Retries: 2 } },
        want: { Healthcheck: { Test: ['CMD', 'true'], Interval: 1e9, Retries: 2 } },
      },
      { name: 'ReadOnly, Init, capabilities', spec: { Image: 'x', ReadOnly: true, Init: false, CapabilityAdd: ['NET_ADMIN'], CapabilityDrop: ['CHOWN'] }, want: {}, hc: { ReadonlyRootfs: true, Init: false, CapAdd: ['NET_ADMIN'], CapDrop: ['CHOWN'] } },
      {
        name: 'Sysctls, Ulimits, Groups, OomScoreAdj',
        spec: { Image: 'x', Sysctls: { 'net.ipv4.ip_forward': '1' }, Ulimits: [{ Name: 'nofile', Soft: 100, Hard: 200 }], Groups: ['audio'], OomScoreAdj: 5 },
        want: {},
        hc: { Sysctls: { 'net.ipv4.ip_forward': '1' }, Ulimits: [{ Name: 'nofile', Soft: 100, Hard: 200 }], GroupAdd: ['audio'], OomScoreAdj: 5 },
      },
      {
        name: 'DNSConfig and Hosts (hosts(5) lines become name:ip)',
        spec: { Image: 'x', DNSConfig: { Nameservers: ['10.0.0.2'], Search: ['example.org'], Options: ['ndots:2'] }, Hosts: ['10.1.1.1 db db.local', '10.1.1.2'] },
        want: {},
        hc: { Dns: ['10.0.0.2'], DnsSearch: ['example.org'], DnsOptions: ['ndots:2'], ExtraHosts: ['db:10.1.1.1', 'db.local:10.1.1.1'] },
      },
      {
        name: 'Privileges become security options',
        spec: { Image: 'x', Privileges: { NoNewPrivileges: true, Seccomp: { Mode: 'unconfined' } } },
        want: {},
        hc: { SecurityOpt: ['no-new-privileges', 'seccomp=unconfined'] },
      },
      {
        name: 'mounts: bind, volume, tmpfs',
        spec: {
          Image: 'x',
          Mounts: [
            { Type: 'bind', Source: '/srv', Target: '/data', ReadOnly: true, BindOptions: { Propagation: 'rslave' } },
            { Type: 'volume', Source: 'vol', Target: '/v', VolumeOptions: { NoCopy: true, Labels: { a: 'b' } } },
            { Type: 'volume', Target: '/anon' },
            { Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1048576, Mode: 0o1777 } },
          ],
        },
        want: {},
        hc: {
          Mounts: [
            { Type: 'bind', Source: '/srv', Target: '/data', ReadOnly: true, BindOptions: { Propagation: 'rslave' } },
            { Type: 'volume', Source: 'vol', Target: '/v', VolumeOptions: { NoCopy: true, Labels: { a: 'b' } } },
            { Type: 'volume', Target: '/anon' },
            { Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1048576, Mode: 0o1777 } },
          ],
        },
      },
    ];
    for (const c of cases) {
      const { body } = containerConfigFor(task({}, c.spec as never), node);
      for (const [k, v] of Object.entries(c.want)) assert.deepEqual((body as Record<string, unknown>)[k], v, `${c.name}: ${k}`);
      for (const [k, v] of Object.entries(c.hc ?? {})) assert.deepEqual((body.HostConfig as Record<string, unknown>)[k], v, `${c.name}: HostConfig.${k}`);
    }
  });

  it('takes resource limits (not reservations) and never lets the engine restart the container', () => {
    const t = task({ Spec: { ContainerSpec: { Image: 'busybox' }, Resources: { Limits: { NanoCPUs: 5e8, MemoryBytes: 64 << 20, Pids: 32 }, Reservations: { NanoCPUs: 1e9, MemoryBytes: 1 << 30 } }, RestartPolicy: { Condition: 'any' } } });
    const hc = containerConfigFor(t, node).body.HostConfig!;
    assert.equal(hc.NanoCpus, 5e8);
    assert.equal(hc.Memory, 64 << 20);
    assert.equal(hc.PidsLimit, 32);
    assert.equal(hc.MemoryReservation, undefined);
    assert.deepEqual(hc.RestartPolicy, { Name: 'no', MaximumRetryCount: 0 });
    const none = containerConfigFor(task(), node).body.HostConfig!;
    assert.equal(none.NanoCpus, undefined);
    assert.equal(none.Memory, undefined);
  });

  it('publishes host-mode ports only (allocated ports first, else the endpoint spec)', () => {
    const spec = { Ports: [{ Protocol: 'tcp' as const, TargetPort: 80, PublishedPort: 8080, PublishMode: 'host' as const }, { Protocol: 'tcp' as const, TargetPort: 81, PublishedPort: 30000, PublishMode: 'ingress' as const }] };
    const fromSpec = containerConfigFor(task({ Endpoint: { Spec: spec } }), node).body;
    assert.deepEqual(fromSpec.HostConfig!.PortBindings, { '80/tcp': [{ HostIp: '', HostPort: '8080' }] });
    assert.deepEqual(fromSpec.ExposedPorts, { '80/tcp': {} });
    const allocated = containerConfigFor(task({ Endpoint: { Spec: spec, Ports: [{ Protocol: 'udp', TargetPort: 53, PublishMode: 'host' }] } }), node).body;
    assert.deepEqual(allocated.HostConfig!.PortBindings, { '53/udp': [{ HostIp: '', HostPort: '' }] }, 'no published port: the engine picks one');
    const none = containerConfigFor(task(), node).body;
    assert.deepEqual(none.HostConfig!.PortBindings, {});
    assert.equal(none.ExposedPorts, undefined);
  });

  it('joins the default bridge unless networking is given (the seam for overlay attachments)', () => {
    const def = containerConfigFor(task(), node).body;
    assert.equal(def.HostConfig!.NetworkMode, 'default');
    assert.deepEqual(def.NetworkingConfig, { EndpointsConfig: {} });
    const custom = containerConfigFor(task(), node, { NetworkMode: 'ov1', EndpointsConfig: { ov1: { IPAMConfig: { IPv4Address: '10.0.9.5' } } } }).body;
    assert.equal(custom.HostConfig!.NetworkMode, 'ov1');
    assert.deepEqual(custom.NetworkingConfig!.EndpointsConfig!.ov1.IPAMConfig, { IPv4Address: '10.0.9.5' });
  });

  it('refuses what this node cannot run, naming the field', () => {
    const cases: Array<[AgentTask, RegExp]> = [
      [task({ Spec: {} }), /Spec\.ContainerSpec is required/],
      [task({}, { Image: '' }), /ContainerSpec\.Image must not be empty/],
      [task({}, { Image: 'x', Mounts: [{ Type: 'npipe', Target: '/p' }] }), /Mounts\[0\]\.Type: mount type "npipe"/],
      [task({}, { Image: 'x', Mounts: [{ Type: 'bind', Source: '/a' }] }), /Mounts\[0\]\.Target must not be empty/],
      [task({}, { Image: 'x', Mounts: [{ Type: 'volume', Target: '/a', VolumeOptions: { Subpath: 'x' } }] }), /Mounts\[0\]\.VolumeOptions\.Subpath/],
    ];
    for (const [t, re] of cases) {
      assert.throws(
        () => containerConfigFor(t, node),
        (e: unknown) => isShoalError(e, 'INVALID_ARGUMENT') && re.test(e.message),
        String(re),
      );
    }
  });

  it('grace period and image helpers', () => {
    assert.equal(stopGraceSeconds(task({}, { Image: 'x', StopGracePeriod: 0 })), 0);
    assert.equal(stopGraceSeconds(task({}, { Image: 'x', StopGracePeriod: 1 })), 1);
    assert.equal(taskImage('localhost:5000/x:1'), 'localhost:5000/x:1');
    assert.equal(taskImage('docker.io/library/busybox'), 'busybox:latest');
    assert.equal(taskImage('Not Valid'), 'Not Valid', 'left for the engine to refuse');
  });
});
