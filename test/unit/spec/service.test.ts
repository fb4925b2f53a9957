import assert from 'node:assert/strict';
import { isShoalError } from '../../../shared/errors';
import { validateServiceSpec } from '../../../manager/spec';

/** A minimal valid spec with `patch` merged in at the top level. */
function spec(patch: Record<string, unknown> = {}): Record<string, unknown> {
  return { Name: 'web', TaskTemplate: { ContainerSpec: { Image: 'busybox' } }, ...patch };
}

/** The same spec with the container spec extended. */
function container(fields: Record<string, unknown>): Record<string, unknown> {
  return spec({ TaskTemplate: { ContainerSpec: { Image: 'busybox', ...fields } } });
}

function task(fields: Record<string, unknown>): Record<string, unknown> {
  return spec({ TaskTemplate: { ContainerSpec: { Image: 'busybox' }, ...fields } });
}

function rejects(input: unknown, message: string) {
  assert.throws(
    () => validateServiceSpec(input),
    (err: unknown) => {
      assert.ok(isShoalError(err, 'INVALID_ARGUMENT'), `INVALID_ARGUMENT, got ${String(err)}`);
      assert.equal(err.message, message);
      return true;
    },
  );
}

describe('service spec defaults', () => {
  it('fills Docker defaults into a minimal spec', () => {
    const s = validateServiceSpec(spec());
    assert.deepEqual(s, {
      Name: 'web',
      Labels: {},
      TaskTemplate: {
        ContainerSpec: { Image: 'busybox' },
        RestartPolicy: { Condition: 'any', Delay: 5_000_000_000, MaxAttempts: 0, Window: 0 },
        ForceUpdate: 0,
        Runtime: 'container',
      },
      Mode: { Replicated: { Replicas: 1 } },
      UpdateConfig: { Parallelism: 1, Delay: 0, FailureAction: 'pause', Monitor: 5_000_000_000, MaxFailureRatio: 0, Order: 'stop-first' },
      RollbackConfig: { Parallelism: 1, Delay: 0, FailureAction: 'pause', Monitor: 5_000_000_000, MaxFailureRatio: 0, Order: 'stop-first' },
      EndpointSpec: { Mode: 'vip' },
    });
  });

  it('keeps what the user set and fills the rest per field', () => {
    const s = validateServiceSpec(
      spec({
        UpdateConfig: { Parallelism: 0, Order: 'start-first' },
        TaskTemplate: { ContainerSpec: { Image: 'busybox' }, RestartPolicy: { Condition: 'on-failure', MaxAttempts: 3 } },
        Mode: { Replicated: {} },
      }),
    );
    assert.deepEqual(s.UpdateConfig, { Parallelism: 0, Delay: 0, FailureAction: 'pause', Monitor: 5e9, MaxFailureRatio: 0, Order: 'start-first' });
    assert.deepEqual(s.TaskTemplate!.RestartPolicy, { Condition: 'on-failure', Delay: 5e9, MaxAttempts: 3, Window: 0 });
    assert.deepEqual(s.Mode, { Replicated: { Replicas: 1 } });
  });

  it('jobs default to restarting on failure only, and fill MaxConcurrent/TotalCompletions', () => {
    const s = validateServiceSpec(spec({ Mode: { ReplicatedJob: { MaxConcurrent: 2 } } }));
    assert.equal(s.TaskTemplate!.RestartPolicy!.Condition, 'on-failure');
    assert.deepEqual(s.Mode, { ReplicatedJob: { MaxConcurrent: 2, TotalCompletions: 2 } });
    assert.deepEqual(validateServiceSpec(spec({ Mode: { ReplicatedJob: {} } })).Mode, { ReplicatedJob: { MaxConcurrent: 1, TotalCompletions: 1 } });
    assert.deepEqual(validateServiceSpec(spec({ Mode: { GlobalJob: {} } })).Mode, { GlobalJob: {} });
  });

  it('matches field names case-insensitively and writes them canonically (HealthCheck -> Healthcheck)', () => {
    const s = validateServiceSpec({ name: 'web', taskTemplate: { containerSpec: { image: 'busybox', HealthCheck: { Test: ['CMD', 'true'] } } }, mode: { replicated: { replicas: 3 } } });
    assert.equal(s.Name, 'web');
    assert.deepEqual(s.Mode, { Replicated: { Replicas: 3 } });
    assert.deepEqual(s.TaskTemplate!.ContainerSpec!.Healthcheck, { Test: ['CMD', 'true'] });
  });

  it('fills port protocol and publish mode, and moves deprecated top-level Networks into the task', () => {
    const s = validateServiceSpec(spec({ EndpointSpec: { Ports: [{ TargetPort: 80, PublishedPort: 8080 }] }, Networks: [{ Target: 'front' }] }));
    assert.deepEqual(s.EndpointSpec, { Mode: 'vip', Ports: [{ TargetPort: 80, PublishedPort: 8080, Protocol: 'tcp', PublishMode: 'ingress' }] });
    assert.deepEqual(s.TaskTemplate!.Networks, [{ Target: 'front' }]);
    assert.equal(s.Networks, undefined);
  });

  it('names an unnamed service with the injected generator, and requires a name without one', () => {
    assert.equal(validateServiceSpec(spec({ Name: undefined }), { newName: () => 'calm_cod' }).Name, 'calm_cod');
    rejects(spec({ Name: '' }), 'invalid spec: Name: must be provided');
  });

  it('ignores null fields as Go does', () => {
    const s = validateServiceSpec(spec({ Labels: null, UpdateConfig: null }));
    assert.deepEqual(s.Labels, {});
  });

  it('accepts the full example body from the API reference', () => {
    const s = validateServiceSpec({
      Name: 'web',
      TaskTemplate: {
        ContainerSpec: {
          Image: 'nginx:alpine',
          Mounts: [{ ReadOnly: true, Source: 'web-data', Target: '/usr/share/nginx/html', Type: 'volume', VolumeOptions: { DriverConfig: {}, Labels: { 'com.example.something': 'something-value' } } }],
          Hosts: ['10.10.10.10 host1', 'ABCD:EF01:2345:6789:ABCD:EF01:2345:6789 host2'],
          User: '33',
          DNSConfig: { Nameservers: ['8.8.8.8'], Search: ['example.org'], Options: ['timeout:3'] },
          Secrets: [{ File: { Name: 'www.example.org.key', UID: '33', GID: '33', Mode: 384 }, SecretID: 'fpjqlhnwb19zds35k8wn80lq9', SecretName: 'example_org_domain_key' }],
          OomScoreAdj: 0,
        },
        LogDriver: { Name: 'json-file', Options: { 'max-file': '3', 'max-size': '10M' } },
        Placement: {},
        Resources: { Limits: { MemoryBytes: 104857600 }, Reservations: {} },
        RestartPolicy: { Condition: 'on-failure', Delay: 10000000000, MaxAttempts: 10 },
      },
      Mode: { Replicated: { Replicas: 4 } },
      UpdateConfig: { Parallelism: 2, Delay: 1000000000, FailureAction: 'pause', Monitor: 15000000000, MaxFailureRatio: 0.15 },
      RollbackConfig: { Parallelism: 1, Delay: 1000000000, FailureAction: 'pause', Monitor: 15000000000, MaxFailureRatio: 0.15 },
      EndpointSpec: { Ports: [{ Protocol: 'tcp', PublishedPort: 8080, TargetPort: 80 }] },
      Labels: { foo: 'bar' },
    });
    assert.equal(s.Mode!.Replicated!.Replicas, 4);
    assert.equal(s.TaskTemplate!.RestartPolicy!.Window, 0);
  });
});

describe('service spec errors name the field', () => {
  const table: Array<[string, unknown, string]> = [
    // mode and replicas
    ['negative replicas', spec({ Mode: { Replicated: { Replicas: -1 } } }), 'invalid spec: Mode.Replicated.Replicas: must be a non-negative integer, got -1'],
    ['non-numeric replicas', spec({ Mode: { Replicated: { Replicas: '3' } } }), 'invalid spec: Mode.Replicated.Replicas: must be a non-negative integer, got "3"'],
    ['fractional replicas', spec({ Mode: { Replicated: { Replicas: 1.5 } } }), 'invalid spec: Mode.Replicated.Replicas: must be a non-negative integer, got 1.5'],
    ['unknown mode', spec({ Mode: { Daemon: {} } }), 'invalid spec: Mode.Daemon: unknown mode (expected one of Replicated, Global, ReplicatedJob, GlobalJob)'],
    ['two modes', spec({ Mode: { Replicated: { Replicas: 1 }, Global: {} } }), 'invalid spec: Mode: only one of Replicated, Global, ReplicatedJob, GlobalJob may be set, got Replicated and Global'],
    ['fields in Global', spec({ Mode: { Global: { Replicas: 2 } } }), 'invalid spec: Mode.Global.Replicas: unknown field'],
    ['negative MaxConcurrent', spec({ Mode: { ReplicatedJob: { MaxConcurrent: -2 } } }), 'invalid spec: Mode.ReplicatedJob.MaxConcurrent: must be a non-negative integer, got -2'],
    ['MaxReplicas with global', spec({ Mode: { Global: {} }, TaskTemplate: { ContainerSpec: { Image: 'busybox' }, Placement: { MaxReplicas: 2 } } }), 'invalid spec: TaskTemplate.Placement.MaxReplicas: can only be used with replicated modes, not global'],
    // unknown fields
    ['unknown top-level field', spec({ Replicas: 3 }), 'invalid spec: Replicas: unknown field'],
    ['misspelt top-level field', spec({ Lables: { a: 'b' } }), 'invalid spec: Lables: unknown field (did you mean Labels?)'],
    ['unknown nested field', container({ Imagee: 'x' }), 'invalid spec: TaskTemplate.ContainerSpec.Imagee: unknown field (did you mean Image?)'],
    ['not an object', 'web', 'invalid spec: must be a JSON object, got "web"'],
    // image and name
    ['empty image', container({ Image: '' }), 'invalid spec: TaskTemplate.ContainerSpec.Image: must not be empty'],
    ['missing image', spec({ TaskTemplate: { ContainerSpec: {} } }), 'invalid spec: TaskTemplate.ContainerSpec.Image: must be provided'],
    ['bad image reference', container({ Image: 'Busy Box' }), 'invalid spec: TaskTemplate.ContainerSpec.Image: is not a valid image reference: invalid reference format, got "Busy Box"'],
    ['uppercase repository', container({ Image: 'BusyBox' }), 'invalid spec: TaskTemplate.ContainerSpec.Image: is not a valid image reference: invalid reference format: repository name (BusyBox) must be lowercase, got "BusyBox"'],
    ['missing container spec', spec({ TaskTemplate: {} }), 'invalid spec: TaskTemplate.ContainerSpec: must be provided (shoal runs containers)'],
    ['plugin spec', task({ PluginSpec: { Name: 'x' } }), 'invalid spec: TaskTemplate.PluginSpec: is not supported (shoal runs containers, not plugins)'],
    ['other runtime', task({ Runtime: 'plugin' }), 'invalid spec: TaskTemplate.Runtime: must be \'container\' (the only runtime shoal has), got "plugin"'],
    ['bad name', spec({ Name: 'web.app' }), 'invalid spec: Name: must be a valid DNS name component (letters, digits, \'-\' and \'_\', starting and ending with a letter or digit), got "web.app"'],
    ['name ending in dash', spec({ Name: 'web-' }), 'invalid spec: Name: must be a valid DNS name component (letters, digits, \'-\' and \'_\', starting and ending with a letter or digit), got "web-"'],
    ['long name', spec({ Name: 'a'.repeat(64) }), `invalid spec: Name: must be 63 characters or fewer, got "${'a'.repeat(64)}"`],
    ['non-string label', spec({ Labels: { a: 1 } }), 'invalid spec: Labels.a: must be a string, got 1'],
    // constraints and preferences
    ['constraint without operator', task({ Placement: { Constraints: ['node.role=manager'] } }), "invalid spec: TaskTemplate.Placement.Constraints[0]: constraint 'node.role=manager' has no operator (expected <key>==<value> or <key>!=<value>)"],
    ['constraint with unknown key', task({ Placement: { Constraints: ['node.role==worker', 'node.colour==red'] } }), "invalid spec: TaskTemplate.Placement.Constraints[1]: constraint 'node.colour==red': key 'node.colour' is not supported (expected one of node.id, node.hostname, node.role, node.ip, node.platform.os, node.platform.arch, node.labels.<label>, engine.labels.<label>)"],
    ['constraint not a string', task({ Placement: { Constraints: [7] } }), 'invalid spec: TaskTemplate.Placement.Constraints[0]: must be a string, got 7'],
    ['spread on an unknown key', task({ Placement: { Preferences: [{ Spread: { SpreadDescriptor: 'rack' } }] } }), "invalid spec: TaskTemplate.Placement.Preferences[0].Spread.SpreadDescriptor: key 'rack' is not supported (expected one of node.id, node.hostname, node.role, node.ip, node.platform.os, node.platform.arch, node.labels.<label>, engine.labels.<label>)"],
    // durations
    ['negative restart delay', task({ RestartPolicy: { Delay: -1 } }), 'invalid spec: TaskTemplate.RestartPolicy.Delay: must be a duration in integer nanoseconds (0 or more), got -1'],
    ['string duration', spec({ UpdateConfig: { Monitor: '5s' } }), 'invalid spec: UpdateConfig.Monitor: must be a duration in integer nanoseconds (0 or more), got "5s"'],
    ['fractional duration', container({ StopGracePeriod: 1.5 }), 'invalid spec: TaskTemplate.ContainerSpec.StopGracePeriod: must be a duration in integer nanoseconds (0 or more), got 1.5'],
    ['health interval under 1ms', container({ Healthcheck: { Interval: 500 } }), 'invalid spec: TaskTemplate.ContainerSpec.Healthcheck.Interval: must be 0 (inherit) or at least 1000000 ns (1ms), got 500'],
    ['health test kind', container({ Healthcheck: { Test: ['RUN', 'x'] } }), 'invalid spec: TaskTemplate.ContainerSpec.Healthcheck.Test[0]: must be NONE, CMD or CMD-SHELL, got "RUN"'],
    ['health CMD without command', container({ Healthcheck: { Test: ['CMD'] } }), 'invalid spec: TaskTemplate.ContainerSpec.Healthcheck.Test: CMD needs a command after it'],
    // sizes and resources
    ['negative memory', task({ Resources: { Limits: { MemoryBytes: -5 } } }), 'invalid spec: TaskTemplate.Resources.Limits.MemoryBytes: must be a size in bytes (a non-negative integer), got -5'],
    ['string memory', task({ Resources: { Reservations: { MemoryBytes: '64m' } } }), 'invalid spec: TaskTemplate.Resources.Reservations.MemoryBytes: must be a size in bytes (a non-negative integer), got "64m"'],
    ['tiny memory', task({ Resources: { Limits: { MemoryBytes: 1024 } } }), 'invalid spec: TaskTemplate.Resources.Limits.MemoryBytes: must be 0 or at least 4MiB (4194304 bytes), got 1024'],
    ['tiny cpu', task({ Resources: { Limits: { NanoCPUs: 10 } } }), 'invalid spec: TaskTemplate.Resources.Limits.NanoCPUs: must be 0 or at least 1000000 (0.001 CPU), got 10'],
    ['tmpfs size', container({ Mounts: [{ Type: 'tmpfs', Target: '/tmp', TmpfsOptions: { SizeBytes: -1 } }] }), 'invalid spec: TaskTemplate.ContainerSpec.Mounts[0].TmpfsOptions.SizeBytes: must be a size in bytes (a non-negative integer), got -1'],
    // enums
    ['restart condition', task({ RestartPolicy: { Condition: 'always' } }), 'invalid spec: TaskTemplate.RestartPolicy.Condition: must be one of none, on-failure, any, got "always"'],
    ['failure action', spec({ UpdateConfig: { FailureAction: 'retry' } }), 'invalid spec: UpdateConfig.FailureAction: must be one of continue, pause, rollback, got "retry"'],
    ['rollback cannot roll back', spec({ RollbackConfig: { FailureAction: 'rollback' } }), 'invalid spec: RollbackConfig.FailureAction: must be one of continue, pause, got "rollback"'],
    ['failure ratio', spec({ UpdateConfig: { MaxFailureRatio: 1.5 } }), 'invalid spec: UpdateConfig.MaxFailureRatio: must be a number from 0 to 1, got 1.5'],
    ['update order', spec({ UpdateConfig: { Order: 'both' } }), 'invalid spec: UpdateConfig.Order: must be one of stop-first, start-first, got "both"'],
    // mounts
    ['relative mount target', container({ Mounts: [{ Type: 'volume', Target: 'data' }] }), 'invalid spec: TaskTemplate.ContainerSpec.Mounts[0].Target: must be an absolute path, got "data"'],
    ['mount without type', container({ Mounts: [{ Target: '/data' }] }), 'invalid spec: TaskTemplate.ContainerSpec.Mounts[0].Type: must be provided (bind, volume, tmpfs or image)'],
    ['bind without source', container({ Mounts: [{ Type: 'bind', Target: '/data' }] }), 'invalid spec: TaskTemplate.ContainerSpec.Mounts[0].Source: must be provided for a bind mount'],
    ['tmpfs with source', container({ Mounts: [{ Type: 'tmpfs', Target: '/t', Source: 'x' }] }), 'invalid spec: TaskTemplate.ContainerSpec.Mounts[0].Source: must be empty for a tmpfs mount, got "x"'],
    ['bind options on a volume', container({ Mounts: [{ Type: 'volume', Target: '/d', BindOptions: {} }] }), 'invalid spec: TaskTemplate.ContainerSpec.Mounts[0].BindOptions: can only be used with Type bind, not volume'],
    ['duplicate mount point', container({ Mounts: [{ Type: 'volume', Target: '/d' }, { Type: 'tmpfs', Target: '/d/' }] }), 'invalid spec: TaskTemplate.ContainerSpec.Mounts[1].Target: duplicate mount point, got "/d/"'],
    // container details
    ['relative working dir', container({ Dir: 'app' }), 'invalid spec: TaskTemplate.ContainerSpec.Dir: must be an absolute path, got "app"'],
    ['env not a list', container({ Env: 'A=1' }), 'invalid spec: TaskTemplate.ContainerSpec.Env: must be an array, got "A=1"'],
    ['env without a name', container({ Env: ['=1'] }), 'invalid spec: TaskTemplate.ContainerSpec.Env[0]: must be \'NAME=value\' (or \'NAME\'), got "=1"'],
    ['ulimit soft above hard', container({ Ulimits: [{ Name: 'nofile', Soft: 10, Hard: 5 }] }), 'invalid spec: TaskTemplate.ContainerSpec.Ulimits[0]: soft limit 10 exceeds hard limit 5'],
    ['oom score range', container({ OomScoreAdj: 2000 }), 'invalid spec: TaskTemplate.ContainerSpec.OomScoreAdj: must be an integer from -1000 to 1000, got 2000'],
    // networks and endpoint
    ['network without target', task({ Networks: [{ Aliases: ['a'] }] }), 'invalid spec: TaskTemplate.Networks[0].Target: must be provided'],
    ['duplicate network', task({ Networks: [{ Target: 'n' }, { Target: 'n' }] }), "invalid spec: TaskTemplate.Networks[1].Target: duplicate network 'n'"],
    ['networks twice', spec({ Networks: [{ Target: 'a' }], TaskTemplate: { ContainerSpec: { Image: 'busybox' }, Networks: [{ Target: 'b' }] } }), 'invalid spec: Networks: is deprecated and TaskTemplate.Networks is also set; use TaskTemplate.Networks only'],
    ['port out of range', spec({ EndpointSpec: { Ports: [{ TargetPort: 70000 }] } }), 'invalid spec: EndpointSpec.Ports[0].TargetPort: must be an integer from 1 to 65535, got 70000'],
    ['port without target', spec({ EndpointSpec: { Ports: [{ PublishedPort: 80 }] } }), 'invalid spec: EndpointSpec.Ports[0].TargetPort: must be provided'],
    ['duplicate published port', spec({ EndpointSpec: { Ports: [{ TargetPort: 80, PublishedPort: 8080 }, { TargetPort: 81, PublishedPort: 8080 }] } }), 'invalid spec: EndpointSpec.Ports[1].PublishedPort: duplicate published port 8080/tcp'],
    ['dnsrr with ingress', spec({ EndpointSpec: { Mode: 'dnsrr', Ports: [{ TargetPort: 80, PublishedPort: 8080 }] } }), 'invalid spec: EndpointSpec.Ports[0]: a port published in ingress mode cannot be used with EndpointSpec.Mode dnsrr (use PublishMode host)'],
  ];
  for (const [name, input, message] of table) it(name, () => rejects(input, message));

  it('allows the same published port for tcp and udp, and host-mode duplicates', () => {
    validateServiceSpec(spec({ EndpointSpec: { Ports: [{ TargetPort: 53, PublishedPort: 53 }, { TargetPort: 53, PublishedPort: 53, Protocol: 'udp' }] } }));
    validateServiceSpec(spec({ EndpointSpec: { Ports: [{ TargetPort: 80, PublishedPort: 80, PublishMode: 'host' }, { TargetPort: 81, PublishedPort: 80, PublishMode: 'host' }] } }));
  });
});
