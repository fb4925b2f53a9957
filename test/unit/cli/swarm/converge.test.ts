import assert from 'node:assert/strict';
import { ConvergeTracker, PlainRenderer, progressBar, TtyRenderer, truncError, type ProgressEvent, type StepResult } from '../../../../cli/io/converge';
import type { Node, Service, Task } from '../../../../cli/format/swarm-types';
import type { TaskState } from '../../../../shared/swarm/types';

const nodes = (...ids: string[]): Node[] => ids.map((id) => ({ ID: id, Version: { Index: 1 }, Spec: {}, Status: { State: id.startsWith('down') ? 'down' : 'ready' } }));

function service(mode: Service['Spec']['Mode'], extra: Partial<Service> = {}): Service {
  return { ID: 'svcid', Version: { Index: 1 }, Spec: { Name: 'web', TaskTemplate: {}, Mode: mode }, ...extra };
}

function task(slot: number, state: TaskState, extra: Partial<Task> = {}): Task {
  return { ID: `t${slot}-${state}`, Version: { Index: 1 }, ServiceID: 'svcid', Slot: slot, NodeID: 'n1', Spec: {}, DesiredState: 'running', Status: { State: state }, ...extra };
}

/** Feed observations at the given times; collect what a renderer prints and the last result. */
function run(steps: Array<{ at: number; service: Service; tasks: Task[]; nodes?: Node[] }>, render: (e: ProgressEvent) => void): StepResult {
  const tracker = new ConvergeTracker('web');
  let last: StepResult = { events: [] };
  for (const s of steps) {
    last = tracker.step({ service: s.service, tasks: s.tasks, nodes: s.nodes ?? nodes('n1', 'n2') }, s.at);
    for (const e of last.events) render(e);
    if (last.done || last.error) break;
  }
  return last;
}

function plain(steps: Parameters<typeof run>[0]): { out: string; last: StepResult } {
  let out = '';
  const r = new PlainRenderer({ write: (s) => (out += s) });
  const last = run(steps, (e) => r.write(e));
  return { out, last };
}

describe('cli converge progress: replicated services', () => {
  const svc = service({ Replicated: { Replicas: 3 } });
  it('tasks come up, then the monitor period, then "converged" (plain output)', () => {
    const { out, last } = plain([
      { at: 0, service: svc, tasks: [] },
      { at: 200, service: svc, tasks: [task(1, 'pending'), task(2, 'pending'), task(3, 'assigned')] },
      { at: 400, service: svc, tasks: [task(1, 'running'), task(2, 'starting'), task(3, 'preparing')] },
      { at: 600, service: svc, tasks: [task(1, 'running'), task(2, 'running'), task(3, 'running')] },
      { at: 2000, service: svc, tasks: [task(1, 'running'), task(2, 'running'), task(3, 'running')] },
      { at: 5599, service: svc, tasks: [task(1, 'running'), task(2, 'running'), task(3, 'running')] },
      { at: 5600, service: svc, tasks: [task(1, 'running'), task(2, 'running'), task(3, 'running')] },
    ]);
    assert.equal(
      out,
      [
        'overall progress: 0 out of 3 tasks',
        '1/3: pending',
        '2/3: pending',
        '3/3: assigned',
        '1/3: running',
        '2/3: starting',
        '3/3: preparing',
        'overall progress: 1 out of 3 tasks',
        '2/3: running',
        '3/3: running',
        'overall progress: 3 out of 3 tasks',
        'verify: Waiting 5 seconds to verify that tasks are stable...',
        'verify: Waiting 4 seconds to verify that tasks are stable...',
        'verify: Waiting 1 seconds to verify that tasks are stable...',
        'verify: Service web converged',
        '',
      ].join('\n'),
    );
    assert.equal(last.done, true);
  });

  it('a failing task shows its error; losing convergence restarts the verification', () => {
    const err = 'starting container failed: exec: "nope": executable file not found in $PATH';
    const { out, last } = plain([
      { at: 0, service: svc, tasks: [task(1, 'running'), task(2, 'running'), task(3, 'running')] },
      { at: 1000, service: svc, tasks: [task(1, 'running'), task(2, 'running'), task(3, 'failed', { DesiredState: 'shutdown', Status: { State: 'failed', Err: err } }), task(3, 'pending', { ID: 't3b' })] },
      { at: 1200, service: svc, tasks: [task(1, 'running'), task(2, 'running'), task(3, 'rejected', { Status: { State: 'rejected', Err: `${err}\nand more` } })] },
    ]);
    assert.equal(
      out,
      [
        'overall progress: 0 out of 3 tasks',
        '1/3: running',
        '2/3: running',
        '3/3: running',
        'overall progress: 3 out of 3 tasks',
        'verify: Waiting 5 seconds to verify that tasks are stable...',
        '3/3: pending',
        'overall progress: 2 out of 3 tasks',
        'verify: Detected task failure',
        `3/3: ${truncError(`${err} and more`)}`,
        '',
      ].join('\n'),
    );
    assert.equal(truncError(`${err} and more`).length, 75);
    assert.ok(!last.done && !last.error);
  });

  it('tasks of nodes that are down do not count; the update monitor sets the verify period', () => {
    const s = service({ Replicated: { Replicas: 1 } }, {});
    s.Spec.UpdateConfig = { Parallelism: 1, Monitor: 2e9, MaxFailureRatio: 0, Order: 'stop-first' };
    const { out } = plain([
      { at: 0, service: s, tasks: [task(1, 'running', { NodeID: 'down1' })], nodes: nodes('n1', 'down1') },
      { at: 100, service: s, tasks: [task(1, 'running', { NodeID: 'down1' }), task(1, 'running', { ID: 'moved', NodeID: 'n1' })], nodes: nodes('n1', 'down1') },
      { at: 2100, service: s, tasks: [task(1, 'running', { ID: 'moved', NodeID: 'n1' })], nodes: nodes('n1', 'down1') },
    ]);
    assert.equal(out, ['overall progress: 0 out of 1 tasks', '1/1: running', 'overall progress: 1 out of 1 tasks', 'verify: Waiting 2 seconds to verify that tasks are stable...', 'verify: Service web converged', ''].join('\n'));
  });

  it('more than 20 replicas: the overall line only', () => {
    const big = service({ Replicated: { Replicas: 21 } });
    const tasks = Array.from({ length: 21 }, (_, i) => task(i + 1, 'running'));
    const { out } = plain([{ at: 0, service: big, tasks }]);
    assert.equal(out, 'overall progress: 0 out of 21 tasks\noverall progress: 21 out of 21 tasks\nverify: Waiting 5 seconds to verify that tasks are stable...\n');
  });

  it('update states: paused is an error, completed ends the wait, a rollback says so', () => {
    assert.deepEqual(plain([{ at: 0, service: service({ Replicated: { Replicas: 1 } }, { UpdateStatus: { State: 'paused', Message: 'update paused due to failure' } }), tasks: [] }]).last, { events: [], error: 'service update paused: update paused due to failure' });
    assert.equal(plain([{ at: 0, service: service({ Replicated: { Replicas: 1 } }, { UpdateStatus: { State: 'completed' } }), tasks: [] }]).last.done, true);
    const rolling = service({ Replicated: { Replicas: 1 } }, { UpdateStatus: { State: 'rollback_started', Message: 'update rolled back due to failure' } });
    const done = service({ Replicated: { Replicas: 1 } }, { UpdateStatus: { State: 'rollback_completed', Message: 'rollback completed' } });
    const { out, last } = plain([
      { at: 0, service: rolling, tasks: [task(1, 'starting')] },
      { at: 200, service: done, tasks: [task(1, 'running')] },
      { at: 6000, service: done, tasks: [task(1, 'running')] },
    ]);
    assert.equal(
      out,
      [
        'rollback: update rolled back due to failure',
        'overall progress: rolling back update: 0 out of 1 tasks',
        '1/1: starting',
        '1/1: running',
        'overall progress: rolling back update: 1 out of 1 tasks',
        'verify: Waiting 5 seconds to verify that tasks are stable...',
        'verify: Service web converged',
        'rollback: rollback completed',
        '',
      ].join('\n'),
    );
    assert.equal(last.done, true);
  });
});

describe('cli converge progress: global services and jobs', () => {
  it('global: waits for tasks, then one line per node', () => {
    const svc = service({ Global: {} });
    const on = (node: string, state: TaskState) => task(0, state, { ID: `${node}-${state}`, NodeID: node });
    const { out } = plain([
      { at: 0, service: svc, tasks: [] },
      { at: 200, service: svc, tasks: [on('nodeaaaaaaaaaaaaaaaa', 'pending'), on('nodebbbbbbbbbbbbbbbb', 'starting')], nodes: nodes('nodeaaaaaaaaaaaaaaaa', 'nodebbbbbbbbbbbbbbbb') },
      { at: 400, service: svc, tasks: [on('nodeaaaaaaaaaaaaaaaa', 'running'), on('nodebbbbbbbbbbbbbbbb', 'running')], nodes: nodes('nodeaaaaaaaaaaaaaaaa', 'nodebbbbbbbbbbbbbbbb') },
    ]);
    assert.equal(
      out,
      [
        'overall progress: waiting for new tasks',
        'overall progress: 0 out of 2 tasks',
        'nodeaaaaaaaa: pending',
        'nodebbbbbbbb: starting',
        'nodeaaaaaaaa: running',
        'nodebbbbbbbb: running',
        'overall progress: 2 out of 2 tasks',
        'verify: Waiting 5 seconds to verify that tasks are stable...',
        '',
      ].join('\n'),
    );
  });

  it('replicated job: completions and active tasks, then "job complete" without a verify period', () => {
    const svc = service({ ReplicatedJob: { MaxConcurrent: 2, TotalCompletions: 3 } }, { JobStatus: { JobIteration: { Index: 7 } } });
    const j = (slot: number, state: TaskState, iteration = 7) => task(slot, state, { ID: `${slot}-${state}-${iteration}`, DesiredState: 'complete', JobIteration: { Index: iteration } });
    const { out, last } = plain([
      { at: 0, service: svc, tasks: [j(0, 'running'), j(1, 'starting'), j(0, 'complete', 6)] },
      { at: 200, service: svc, tasks: [j(0, 'complete'), j(1, 'running'), j(2, 'pending')] },
      { at: 400, service: svc, tasks: [j(0, 'complete'), j(1, 'complete'), j(2, 'complete')] },
    ]);
    assert.equal(
      out,
      [
        'job progress: 0 out of 3 complete',
        'active tasks: 0 out of 2 tasks',
        '1/3: running',
        '2/3: starting',
        'active tasks: 2 out of 2 tasks',
        '1/3: complete',
        '2/3: running',
        '3/3: pending',
        'job progress: 1 out of 3 complete',
        '2/3: complete',
        '3/3: complete',
        'job progress: 3 out of 3 complete',
        'active tasks: 0 out of 0 tasks',
        'job complete',
        '',
      ].join('\n'),
    );
    assert.equal(last.done, true);
  });

  it('global job: the nodes with tasks at the start are the ones waited for', () => {
    const svc = service({ GlobalJob: {} }, { JobStatus: { JobIteration: { Index: 1 } } });
    const g = (node: string, state: TaskState) => task(0, state, { ID: `${node}-${state}`, NodeID: node, DesiredState: 'complete', JobIteration: { Index: 1 } });
    const { out, last } = plain([
      { at: 0, service: svc, tasks: [] },
      { at: 200, service: svc, tasks: [g('n1', 'running'), g('n2', 'complete')] },
      { at: 400, service: svc, tasks: [g('n1', 'complete'), g('n2', 'complete'), g('n3', 'running')] },
    ]);
    assert.equal(out, ['job progress: waiting for tasks', 'job progress: 0 out of 2 complete', 'n1: running', 'n2: complete', 'job progress: 1 out of 2 complete', 'n1: complete', 'job progress: 2 out of 2 complete', 'job complete', ''].join('\n'));
    assert.equal(last.done, true);
  });
});

describe('cli converge progress: terminal rendering', () => {
  it('bars as docker draws them, only on terminals wider than 110 columns', () => {
    assert.equal(progressBar(9, 9, 200), `[${'='.repeat(50)}>] `);
    assert.equal(progressBar(3, 9, 200), `[${'='.repeat(16)}>${' '.repeat(34)}] `);
    assert.equal(progressBar(0, 0, 200), '');
    assert.equal(progressBar(9, 9, 80), '');
  });
  it('each id keeps its line; the cursor goes up to redraw it and back down', () => {
    let out = '';
    const r = new TtyRenderer({ write: (s) => (out += s) }, 120);
    const tracker = new ConvergeTracker('web');
    const svc = service({ Replicated: { Replicas: 1 } });
    for (const e of tracker.step({ service: svc, tasks: [task(1, 'starting')], nodes: nodes('n1') }, 0).events) r.write(e);
    for (const e of tracker.step({ service: svc, tasks: [task(1, 'running')], nodes: nodes('n1') }, 200).events) r.write(e);
    const line = (up: number, text: string) => `\x1b[${up}A\x1b[2K\r${text}\r\x1b[${up}B`;
    assert.equal(
      out,
      '\n' +
        line(1, 'overall progress: 0 out of 1 tasks ') +
        '\n' +
        line(1, '1/1:   ') +
        line(1, `1/1: starting  [${'='.repeat(44)}>${' '.repeat(6)}] `) +
        line(2, 'overall progress: 0 out of 1 tasks ') +
        line(1, `1/1: running   [${'='.repeat(50)}>] `) +
        line(2, 'overall progress: 1 out of 1 tasks ') +
        '\n' +
        line(1, 'verify: Waiting 5 seconds to verify that tasks are stable... '),
    );
    out = '';
    r.write({ id: '', message: 'Operation continuing in background.' });
    assert.equal(out, 'Operation continuing in background.\n');
  });
});
