import assert from 'node:assert/strict';
import { parseDockerfile, stagesForTarget, resolveStageRef } from '../../../worker/engine/build/dockerfile';
import { BuildArgs, normalizeDest, parseExposedPorts, resolveWorkdir, setEnv, validateSignal } from '../../../worker/engine/build/state';

const df = parseDockerfile('FROM busybox AS base\nRUN a\nFROM base AS build\nRUN b\nFROM busybox\nCOPY --from=build /x /x\n');

describe('build stages', () => {
  it('--target keeps the stages up to the target; none keeps all', () => {
    assert.equal(stagesForTarget(df).length, 3);
    assert.deepEqual(stagesForTarget(df, 'build').map((s) => s.index), [0, 1]);
    assert.deepEqual(stagesForTarget(df, 'BASE').map((s) => s.index), [0]);
    assert.throws(() => stagesForTarget(df, 'nope'), /failed to reach build target nope in Dockerfile/);
  });

  it('resolves --from and FROM by name, by index, else as an image', () => {
    assert.deepEqual(resolveStageRef(df.stages, 2, 'build'), { stage: 1 });
    assert.deepEqual(resolveStageRef(df.stages, 2, 'Base'), { stage: 0 });
    assert.deepEqual(resolveStageRef(df.stages, 2, '0'), { stage: 0 });
    assert.deepEqual(resolveStageRef(df.stages, 2, 'alpine:3'), { image: 'alpine:3' });
    assert.throws(() => resolveStageRef(df.stages, 1, 'build'), /refers to current build stage/);
    assert.throws(() => resolveStageRef(df.stages, 1, '1'), /refers to current build stage/);
    // A name defined later is not a stage yet: it is an image reference.
    assert.deepEqual(resolveStageRef(df.stages, 0, 'build'), { image: 'build' });
  });
});

describe('build stage state', () => {
  it('ENV replaces a key in place or appends', () => {
    assert.deepEqual(setEnv(['A=1', 'B=2'], 'A', '3'), ['A=3', 'B=2']);
    assert.deepEqual(setEnv(['A=1'], 'C', 'x=y'), ['A=1', 'C=x=y']);
  });

  it('build args: request value, else default, else the meta ARG; ENV overrides; unused are reported', () => {
    const a = new BuildArgs({ V: 'given', N: null, PROXYLESS: 'x', HTTP_PROXY: 'http://p' });
    a.declareMeta('BASE', 'busybox');
    a.declareMeta('V', 'meta');
    const stage = new Map<string, string | undefined>();
    a.declare(stage, 'V', 'default');
    a.declare(stage, 'BASE', undefined);
    a.declare(stage, 'N', undefined);
    a.declare(stage, 'D', 'd');
    assert.deepEqual([...stage], [['V', 'given'], ['BASE', 'busybox'], ['N', undefined], ['D', 'd']]);
    assert.deepEqual(a.declared(stage, ['D=from-env']).sort(), ['BASE=busybox', 'V=given']);
    assert.deepEqual(a.allowed(stage, []).sort(), ['BASE=busybox', 'D=d', 'HTTP_PROXY=http://p', 'V=given']);
    assert.deepEqual(a.unused(), ['PROXYLESS']);
  });

  it('WORKDIR builds on the previous one and is always absolute', () => {
    assert.equal(resolveWorkdir(undefined, 'app'), '/app');
    assert.equal(resolveWorkdir('/a', 'b/../c'), '/a/c');
    assert.equal(resolveWorkdir('/a', '/x/'), '/x');
    assert.equal(resolveWorkdir('/a', '..'), '/');
  });

  it('COPY destinations are WORKDIR-relative and keep a trailing slash', () => {
    assert.equal(normalizeDest('/app', 'x'), '/app/x');
    assert.equal(normalizeDest('/app', 'sub/'), '/app/sub/');
    assert.equal(normalizeDest('/app', '.'), '/app');
    assert.equal(normalizeDest(undefined, './'), '/');
    assert.equal(normalizeDest('/app', '/abs'), '/abs');
  });

  it('EXPOSE values: protocol defaults to tcp, ranges expand, bad ones are refused', () => {
    assert.deepEqual(parseExposedPorts(['80', '53/UDP', '8000-8002/tcp']), ['80/tcp', '53/udp', '8000/tcp', '8001/tcp', '8002/tcp']);
    assert.throws(() => parseExposedPorts(['http']), /Invalid containerPort: http/);
    assert.throws(() => parseExposedPorts(['80/icmp']), /Invalid proto: icmp/);
    assert.throws(() => parseExposedPorts(['8080:80']), /host mapping/);
  });

  it('STOPSIGNAL takes names with or without SIG, and numbers', () => {
    for (const s of ['SIGTERM', 'term', '9', 'SIGRTMIN+3']) assert.equal(validateSignal(s), s);
    assert.throws(() => validateSignal('SIGNOPE'), /Invalid signal: SIGNOPE/);
    assert.throws(() => validateSignal('0'), /Invalid signal/);
  });
});
