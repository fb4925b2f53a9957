import assert from 'node:assert/strict';
import { mergeConfig, mergeEnv, normalizePort } from '../../../worker/engine/containers/merge';
import { isShoalError } from '../../../shared/errors';

const image = { Entrypoint: ['/entry.sh'], Cmd: ['serve', '--port', '80'], Env: ['PATH=/usr/bin:/bin', 'A=image', 'B=image'], WorkingDir: '/srv', User: 'www-data', Labels: { a: '1', b: '2' }, ExposedPorts: { '80/tcp': {} }, StopSignal: 'SIGQUIT', Volumes: { '/data': {} } };
const d = { hostname: 'abcdef012345', imageRef: 'img' };

describe('containers/mergeConfig (image config + request, as dockerd)', () => {
  it('uses the image entrypoint and cmd when the request gives neither', () => {
    const m = mergeConfig({}, image, d);
    assert.equal(m.path, '/entry.sh');
    assert.deepEqual(m.args, ['serve', '--port', '80']);
  });

  it('a request Cmd replaces the image Cmd and keeps its Entrypoint', () => {
    const m = mergeConfig({ Cmd: ['debug'] }, image, d);
    assert.equal(m.path, '/entry.sh');
    assert.deepEqual(m.args, ['debug']);
  });

  it('a request Entrypoint drops the image Cmd', () => {
    const m = mergeConfig({ Entrypoint: ['/bin/sh'] }, image, d);
    assert.equal(m.path, '/bin/sh');
    assert.deepEqual(m.args, []);
    const m2 = mergeConfig({ Entrypoint: ['/bin/sh'], Cmd: ['-c', 'x'] }, image, d);
    assert.deepEqual([m2.path, ...m2.args], ['/bin/sh', '-c', 'x']);
  });

  it('Entrypoint [""] clears the entrypoint; the request Cmd runs alone', () => {
    const m = mergeConfig({ Entrypoint: [''], Cmd: ['echo', 'hi'] }, image, d);
    assert.deepEqual([m.path, ...m.args], ['echo', 'hi']);
    assert.equal(m.config.Entrypoint, null);
  });

  it('no command at all is a 400', () => {
    assert.throws(() => mergeConfig({}, {}, d), (e) => isShoalError(e, 'INVALID_ARGUMENT') && e.message === 'No command specified');
    assert.throws(() => mergeConfig({ Entrypoint: [''] }, image, d), /No command specified/);
  });

  it('merges env (request wins, image keys kept) and defaults PATH', () => {
    const m = mergeConfig({ Env: ['A=req', 'C=req'] }, image, d);
    assert.deepEqual(m.config.Env, ['A=req', 'C=req', 'PATH=/usr/bin:/bin', 'B=image']);
    const n = mergeConfig({ Cmd: ['x'] }, {}, d);
    assert.deepEqual(n.config.Env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
    assert.deepEqual(mergeEnv(null, ['X=1']), ['X=1']);
  });

  it('takes user, workdir, stop signal from the image unless given; merges labels, ports, volumes', () => {
    const m = mergeConfig({ Labels: { b: 'req' }, ExposedPorts: { '443': {} } }, image, d);
    assert.equal(m.config.User, 'www-data');
    assert.equal(m.config.WorkingDir, '/srv');
    assert.equal(m.config.StopSignal, 'SIGQUIT');
    assert.deepEqual(m.config.Labels, { a: '1', b: 'req' });
    assert.deepEqual(Object.keys(m.config.ExposedPorts!).sort(), ['443/tcp', '80/tcp']);
    assert.deepEqual(Object.keys(m.config.Volumes!), ['/data']);
    const o = mergeConfig({ User: '1000:1000', WorkingDir: '/tmp', StopSignal: 'SIGINT' }, image, d);
    assert.deepEqual([o.config.User, o.config.WorkingDir, o.config.StopSignal], ['1000:1000', '/tmp', 'SIGINT']);
  });

  it('defaults the hostname and keeps the image reference as given', () => {
    const m = mergeConfig({}, image, d);
    assert.equal(m.config.Hostname, 'abcdef012345');
    assert.equal(m.config.Image, 'img');
    assert.equal(mergeConfig({ Hostname: 'web' }, image, d).config.Hostname, 'web');
  });

  it('fills unset healthcheck fields from the image', () => {
    const m = mergeConfig({ Healthcheck: { Interval: 5e9 } }, { ...image, Healthcheck: { Test: ['CMD', 'true'], Interval: 30e9, Retries: 3 } }, d);
    assert.deepEqual(m.config.Healthcheck, { Test: ['CMD', 'true'], Interval: 5e9, Retries: 3, Timeout: undefined, StartPeriod: undefined, StartInterval: undefined });
    const none = mergeConfig({ Healthcheck: { Test: ['NONE'] } }, { ...image, Healthcheck: { Test: ['CMD', 'true'] } }, d);
    assert.deepEqual(none.config.Healthcheck?.Test, ['NONE']);
  });

  it('normalizes port keys', () => {
    assert.equal(normalizePort('80'), '80/tcp');
    assert.equal(normalizePort('53/UDP'), '53/udp');
    assert.throws(() => normalizePort('http'), /invalid port/);
  });
});
