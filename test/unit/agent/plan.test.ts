import assert from 'node:assert/strict';
import type { TaskState } from '../../../shared/swarm';
import type { ContainerRecord } from '../../../worker/engine/containers';
import { exitError, nextStep, observe, portStatusOf, type AgentTask, type Observed, type Step } from '../../../worker/agent/tasks';

const c = (status: Observed['status'], over: Partial<Observed> = {}): Observed => ({ id: 'c1', status, pid: status === 'running' ? 42 : 0, exitCode: 0, health: 'none', ...over });

describe('agent/tasks nextStep', () => {
  it('walks a task forward one step at a time', () => {
    const cases: Array<[TaskState, TaskState, Observed | undefined, Step]> = [
      ['new', 'running', undefined, { kind: 'advance', to: 'accepted', message: 'accepted' }],
      ['pending', 'running', undefined, { kind: 'advance', to: 'accepted', message: 'accepted' }],
      ['assigned', 'running', undefined, { kind: 'advance', to: 'accepted', message: 'accepted' }],
      ['accepted', 'running', undefined, { kind: 'advance', to: 'preparing', message: 'preparing' }],
      ['preparing', 'running', undefined, { kind: 'prepare' }],
      ['preparing', 'running', c('created'), { kind: 'prepare' }],
      ['ready', 'running', c('created'), { kind: 'advance', to: 'starting', message: 'starting' }],
      ['ready', 'ready', c('created'), { kind: 'wait' }],
      ['ready', 'complete', c('created'), { kind: 'advance', to: 'starting', message: 'starting' }],
      ['starting', 'running', c('created'), { kind: 'start' }],
      ['starting', 'running', undefined, { kind: 'start' }],
      ['starting', 'running', c('running'), { kind: 'running' }],
      ['starting', 'running', c('running', { health: 'starting' }), { kind: 'wait' }],
      ['starting', 'running', c('running', { health: 'healthy' }), { kind: 'running' }],
      ['starting', 'running', c('running', { health: 'unhealthy' }), { kind: 'unhealthy' }],
      ['starting', 'running', c('exited', { exitCode: 1 }), { kind: 'exited' }],
      ['running', 'running', c('running'), { kind: 'wait' }],
      ['running', 'running', c('paused'), { kind: 'wait' }],
      ['running', 'running', c('running', { health: 'unhealthy' }), { kind: 'unhealthy' }],
      ['running', 'running', c('exited'), { kind: 'exited' }],
      ['running', 'running', c('dead', { exitCode: 137 }), { kind: 'exited' }],
      ['running', 'running', undefined, { kind: 'lost' }],
      ['running', 'running', c('removing'), { kind: 'lost' }],
      ['running', 'running', c('created'), { kind: 'lost' }],
    ];
    for (const [state, desired, observed, want] of cases) {
      assert.deepEqual(nextStep(state, desired, observed), want, `${state} (desired ${desired}, container ${observed?.status ?? 'none'})`);
    }
  });

  it('never acts on a finished task until the orchestrator wants it gone', () => {
    for (const state of ['complete', 'failed', 'rejected', 'shutdown', 'orphaned'] as TaskState[]) {
      for (const o of [undefined, c('exited'), c('running')]) assert.deepEqual(nextStep(state, 'running', o), { kind: 'wait' }, `${state} ${o?.status}`);
    }
  });

  it('shuts down for DesiredState SHUTDOWN, removes for REMOVE or when unassigned', () => {
    const cases: Array<[TaskState, TaskState, Observed | undefined, boolean, Step['kind']]> = [
      ['running', 'shutdown', c('running'), true, 'shutdown'],
      ['preparing', 'shutdown', undefined, true, 'shutdown'],
      ['assigned', 'shutdown', undefined, true, 'shutdown'],
      ['running', 'shutdown', c('exited'), true, 'shutdown'],
      ['shutdown', 'shutdown', c('exited'), true, 'wait'],
      ['failed', 'shutdown', c('running'), true, 'shutdown'], // an unhealthy container left running
      ['complete', 'shutdown', c('exited'), true, 'wait'],
      ['shutdown', 'remove', c('exited'), true, 'remove'],
      ['running', 'remove', c('running'), true, 'shutdown'],
      ['shutdown', 'remove', undefined, true, 'wait'],
      ['running', 'running', c('running'), false, 'shutdown'],
      ['complete', 'running', c('exited'), false, 'remove'],
      ['complete', 'running', undefined, false, 'done'],
      ['rejected', 'shutdown', undefined, false, 'done'],
    ];
    for (const [state, desired, observed, assigned, want] of cases) {
      assert.equal(nextStep(state, desired, observed, assigned).kind, want, `${state} (desired ${desired}, container ${observed?.status ?? 'none'}, assigned ${assigned})`);
    }
  });
});

function record(over: { status?: Observed['status']; health?: 'starting' | 'healthy' | 'unhealthy'; test?: string[]; ports?: Record<string, Array<{ HostIp?: string; HostPort?: string }> | null> } = {}): ContainerRecord {
  return {
    Id: 'abc',
    Config: { Healthcheck: over.test ? { Test: over.test } : undefined, Shell: null },
    State: { Status: over.status ?? 'running', Pid: 7, ExitCode: 0, ...(over.health ? { Health: { Status: over.health, FailingStreak: 0, Log: [] } } : {}) },
    NetworkSettings: { Ports: over.ports ?? {} },
  } as unknown as ContainerRecord;
}

describe('agent/tasks observe and status details', () => {
  it('reads health only when the container has a check', () => {
    assert.equal(observe(record()).health, 'none');
    assert.equal(observe(record({ test: ['NONE'] })).health, 'none');
    assert.equal(observe(record({ test: ['CMD', 'true'] })).health, 'starting', 'no probe result yet');
    assert.equal(observe(record({ test: ['CMD-SHELL', 'true'], health: 'healthy' })).health, 'healthy');
    assert.deepEqual(observe(record()), { id: 'abc', status: 'running', pid: 7, exitCode: 0, health: 'none' });
  });

  it('words exits as swarm does', () => {
    assert.equal(exitError(1), 'task: non-zero exit (1)');
    assert.equal(exitError(137, true), 'task: non-zero exit (137): unhealthy container');
  });

  it('reports host-mode ports as published, with the port the engine chose', () => {
    const task = {
      Endpoint: {
        Ports: [
          { TargetPort: 80, PublishedPort: 8080, PublishMode: 'host' },
          { TargetPort: 53, Protocol: 'udp', PublishMode: 'host' },
          { TargetPort: 443, PublishedPort: 30443, PublishMode: 'ingress' },
        ],
      },
    } as unknown as AgentTask;
    const r = record({ ports: { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }], '53/udp': [{ HostIp: '0.0.0.0', HostPort: '32768' }] } });
    assert.deepEqual(portStatusOf(task, r), [
      { TargetPort: 80, PublishedPort: 8080, PublishMode: 'host', Protocol: 'tcp' },
      { TargetPort: 53, Protocol: 'udp', PublishMode: 'host', PublishedPort: 32768 },
    ]);
  });
});
