import assert from 'node:assert/strict';
import type { StackPlan, PlannedService } from '../../../shared/compose';
import type { Service, ServiceSpec } from '../../../shared/swarm/types';
import { comparableSpec, sameServiceSpec, specDifferences, withServerDefaults } from '../../../cli/stack/compare';
import { dependencyLevels } from '../../../cli/stack/order';
import { pendingId, planDeploy, planSteps, wantedSpec, type ObservedStack, type RefIds } from '../../../cli/stack/plan';

/** A spec as the loader makes it for `ns_name`. */
function fileSpec(ns: string, name: string, extra: Partial<NonNullable<ServiceSpec['TaskTemplate']>['ContainerSpec']> = {}, nets = [`${ns}_default`]): ServiceSpec {
  return {
    Name: `${ns}_${name}`,
    Labels: { 'com.docker.stack.namespace': ns, 'com.docker.stack.image': 'busybox:latest' },
    TaskTemplate: {
      ContainerSpec: { Image: 'busybox:latest', Args: ['sleep', '3600'], Labels: { 'com.docker.stack.namespace': ns }, ...extra },
      Resources: {},
      Placement: {},
      Networks: nets.map((Target) => ({ Target, Aliases: [name] })),
    },
    Mode: { Replicated: {} },
    EndpointSpec: {},
  };
}

function planned(ns: string, name: string, dependsOn: string[] = [], extra = {}): PlannedService {
  return { shortName: name, name: `${ns}_${name}`, spec: fileSpec(ns, name, extra), dependsOn: dependsOn.map((d) => `${ns}_${d}`) };
}

function stack(services: PlannedService[], extra: Partial<StackPlan> = {}): StackPlan {
  return {
    namespace: 'app',
    services,
    networks: [{ key: 'default', name: 'app_default', external: false, create: { Name: 'app_default', Driver: 'overlay', Labels: { 'com.docker.stack.namespace': 'app' } } }],
    volumes: [],
    secrets: [],
    configs: [],
    warnings: [],
    ...extra,
  };
}

const NET_ID = 'n3tw0rk1d';
const ids: RefIds = { network: (n) => (n === 'app_default' ? NET_ID : undefined), secret: () => undefined, config: () => undefined };

/** What the daemon stores and returns for a spec the deploy sent (defaults in, names as IDs). */
function stored(p: PlannedService, id: string, version = 10): Service {
  return { ID: id, Version: { Index: version }, Spec: withServerDefaults(wantedSpec(p, ids, undefined, 'never', undefined)) };
}

function observed(services: Service[] = [], extra: Partial<ObservedStack> = {}): ObservedStack {
  return { services, networks: new Map([['app_default', NET_ID]]), secrets: new Map(), configs: new Map(), resolvedImages: new Map(), ...extra };
}

describe('stack deploy: spec comparison', () => {
  it('a file spec equals what the daemon stores for it (defaults filled, empties dropped)', () => {
    const p = planned('app', 'web');
    const want = wantedSpec(p, ids, undefined, 'never', undefined);
    assert.ok(sameServiceSpec(want, withServerDefaults(want)));
    // Go's zero values and absent fields are one value on the wire.
    const noisy = withServerDefaults(want);
    noisy.TaskTemplate!.ContainerSpec = { ...noisy.TaskTemplate!.ContainerSpec, TTY: false, Init: false, Env: [], DNSConfig: {}, Hostname: '' };
    noisy.TaskTemplate!.Placement = { Constraints: [] };
    assert.deepEqual(specDifferences(want, noisy), []);
  });

  it('reports what differs, by path', () => {
    const a = fileSpec('app', 'web');
    const b = fileSpec('app', 'web', { Image: 'busybox:1.36', Env: ['A=1'] });
    assert.deepEqual(specDifferences(b, a), ['TaskTemplate.ContainerSpec.Env', 'TaskTemplate.ContainerSpec.Image']);
    assert.equal(sameServiceSpec(a, b), false);
  });

  it('fills the daemon defaults the same way for both sides', () => {
    const a: ServiceSpec = { Name: 'x', TaskTemplate: { ContainerSpec: { Image: 'i' } }, EndpointSpec: { Ports: [{ TargetPort: 80, PublishedPort: 8080 }] } };
    const b: ServiceSpec = {
      Name: 'x',
      Labels: {},
      Mode: { Replicated: { Replicas: 1 } },
      TaskTemplate: { ContainerSpec: { Image: 'i' }, RestartPolicy: { Condition: 'any', Delay: 5e9, MaxAttempts: 0, Window: 0 }, ForceUpdate: 0, Runtime: 'container' },
      UpdateConfig: { Parallelism: 1, FailureAction: 'pause', Monitor: 5e9, MaxFailureRatio: 0, Order: 'stop-first' },
      EndpointSpec: { Mode: 'vip', Ports: [{ TargetPort: 80, PublishedPort: 8080, Protocol: 'tcp', PublishMode: 'ingress' }] },
    };
    assert.ok(sameServiceSpec(a, b));
    // A value the user set that differs from the default is a difference.
    assert.deepEqual(specDifferences({ ...a, UpdateConfig: { Parallelism: 0 } }, b), ['UpdateConfig.Parallelism']);
    assert.deepEqual(specDifferences({ ...a, Mode: { Replicated: { Replicas: 3 } } }, b), ['Mode.Replicated.Replicas']);
  });

  it('global mode is not replicated mode with zero replicas', () => {
    const base: ServiceSpec = { Name: 'x', TaskTemplate: { ContainerSpec: { Image: 'i' } } };
    assert.equal(sameServiceSpec({ ...base, Mode: { Global: {} } }, { ...base, Mode: { Replicated: { Replicas: 0 } } }), false);
    assert.deepEqual(comparableSpec({ ...base, Mode: { Global: {} } }), comparableSpec({ ...base, Mode: { Global: {} } }));
  });

  it('jobs get on-failure as their restart default', () => {
    const job: ServiceSpec = { Name: 'j', TaskTemplate: { ContainerSpec: { Image: 'i' } }, Mode: { ReplicatedJob: {} } };
    assert.equal(withServerDefaults(job).TaskTemplate!.RestartPolicy!.Condition, 'on-failure');
    assert.deepEqual(withServerDefaults(job).Mode, { ReplicatedJob: { MaxConcurrent: 1, TotalCompletions: 1 } });
  });
});

describe('stack deploy: dependency order', () => {
  it('puts each service one level after its deepest dependency', () => {
    const levels = dependencyLevels([
      { name: 'web', dependsOn: ['api'] },
      { name: 'api', dependsOn: ['db', 'cache'] },
      { name: 'db', dependsOn: [] },
      { name: 'cache', dependsOn: ['db'] },
      { name: 'worker', dependsOn: ['db', 'elsewhere'] },
    ]);
    assert.deepEqual(levels, [['db'], ['cache', 'worker'], ['api'], ['web']]);
  });
  it('names a cycle', () => {
    assert.throws(() => dependencyLevels([{ name: 'a', dependsOn: ['b'] }, { name: 'b', dependsOn: ['a'] }]), /dependency cycle: a -> b -> a/);
  });
});

describe('stack deploy: plan', () => {
  const db = planned('app', 'db');
  const api = planned('app', 'api', ['db']);
  const web = planned('app', 'web', ['api']);

  it('creates everything on a first deploy, dependencies first', () => {
    const plan = planDeploy(stack([api, db, web]), observed([], { networks: new Map() }), { prune: false, resolveImage: 'always' });
    assert.deepEqual(planSteps(plan), ['create network app_default', 'create service app_db', 'create service app_api', 'create service app_web']);
    assert.deepEqual(plan.services.map((s) => [s.name, s.level, s.dependsOn]), [['app_db', 0, []], ['app_api', 1, ['app_db']], ['app_web', 2, ['app_api']]]);
  });

  it('changes nothing when the cluster runs the file already', () => {
    const plan = planDeploy(stack([api, db, web]), observed([stored(api, 'A'), stored(db, 'D'), stored(web, 'W')]), { prune: true, resolveImage: 'never' });
    assert.deepEqual(planSteps(plan), []);
    assert.deepEqual(plan.services.map((s) => s.action), ['unchanged', 'unchanged', 'unchanged']);
  });

  it('updates only the service whose spec changed', () => {
    const changed = planned('app', 'api', ['db'], { Env: ['MODE=2'] });
    const plan = planDeploy(stack([changed, db, web]), observed([stored(api, 'A'), stored(db, 'D'), stored(web, 'W')]), { prune: false, resolveImage: 'never' });
    assert.deepEqual(planSteps(plan), ['update service app_api']);
    assert.deepEqual(plan.services.find((s) => s.name === 'app_api')!.differences, ['TaskTemplate.ContainerSpec.Env']);
  });

  it('--prune removes the stack services the file no longer has', () => {
    const old = { ...stored(planned('app', 'old'), 'O') };
    const plan = planDeploy(stack([db]), observed([stored(db, 'D'), old]), { prune: true, resolveImage: 'never' });
    assert.deepEqual(planSteps(plan), ['remove service app_old']);
    assert.deepEqual(planSteps(planDeploy(stack([db]), observed([stored(db, 'D'), old]), { prune: false, resolveImage: 'never' })), []);
  });

  it('creates missing secrets, updates existing ones (docker does), and points services at their IDs', () => {
    const withSecret = planned('app', 'db', [], { Secrets: [{ File: { Name: 'pw', UID: '0', GID: '0', Mode: 0o444 }, SecretName: 'app_pw' }] });
    const s = stack([withSecret], {
      secrets: [
        { key: 'pw', name: 'app_pw', external: false, spec: { Name: 'app_pw', Data: 'eA==' } },
        { key: 'ext', name: 'shared', external: true },
      ],
    });
    const first = planDeploy(s, observed([], { secrets: new Map([['shared', { ID: 'S1' }]]) }), { prune: false, resolveImage: 'never' });
    assert.deepEqual(planSteps(first), ['create secret app_pw', 'create service app_db']);
    const again = planDeploy(s, observed([], { secrets: new Map([['app_pw', { ID: 'P1', Version: { Index: 4 } }]]) }), { prune: false, resolveImage: 'never' });
    assert.deepEqual(again.payloads.map((p) => [p.action, p.existing?.ID]), [['update', 'P1']]);
    const spec = wantedSpec(withSecret, { ...ids, secret: (n) => (n === 'app_pw' ? 'P1' : undefined) }, undefined, 'never', undefined);
    assert.equal(spec.TaskTemplate!.ContainerSpec!.Secrets![0].SecretID, 'P1');
    assert.equal(spec.TaskTemplate!.Networks![0].Target, NET_ID);
  });

  it('a service on a network the deploy creates always differs (it gets a pending ID)', () => {
    const plan = planDeploy(stack([db]), observed([stored(db, 'D')], { networks: new Map() }), { prune: false, resolveImage: 'never' });
    assert.deepEqual(planSteps(plan), ['create network app_default', 'update service app_db']);
    assert.ok(plan.services[0].differences.includes('TaskTemplate.Networks'));
    assert.equal(pendingId('app_default'), '<new app_default>');
  });
});

describe('stack deploy: --resolve-image and ForceUpdate (docker\'s rules)', () => {
  const p = planned('app', 'web');
  const pinned = 'busybox:latest@sha256:' + 'a'.repeat(64);
  const current: Service = { ID: 'W', Spec: { ...fileSpec('app', 'web'), TaskTemplate: { ...fileSpec('app', 'web').TaskTemplate, ContainerSpec: { ...fileSpec('app', 'web').TaskTemplate!.ContainerSpec, Image: pinned }, ForceUpdate: 3 } } };
  const image = (s: ServiceSpec) => s.TaskTemplate!.ContainerSpec!.Image;

  it('always: the registry\'s answer, or the image as written when it has none', () => {
    assert.equal(image(wantedSpec(p, ids, current, 'always', pinned)), pinned);
    assert.equal(image(wantedSpec(p, ids, undefined, 'always', undefined)), 'busybox:latest');
  });
  it('changed and never keep the pinned image while the file\'s image is the same', () => {
    assert.equal(image(wantedSpec(p, ids, current, 'changed', undefined)), pinned);
    assert.equal(image(wantedSpec(p, ids, current, 'never', undefined)), pinned);
    const other = planned('app', 'web', [], { Image: 'busybox:1.36' });
    assert.equal(image(wantedSpec(other, ids, current, 'never', undefined)), 'busybox:1.36');
  });
  it('keeps the current ForceUpdate', () => {
    assert.equal(wantedSpec(p, ids, current, 'never', undefined).TaskTemplate!.ForceUpdate, 3);
  });
});
