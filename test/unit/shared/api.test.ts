import assert from 'node:assert/strict';
import { Router, splitVersion, frame, Demuxer, StreamType, parseHost } from '../../../shared/api';
import { isShoalError } from '../../../shared/errors';

describe('api router', () => {
  const router = new Router();
  const h1 = () => undefined;
  const h2 = () => undefined;
  router.get('/images/:name*/json', h1).post('/containers/:id/start', h2);

  it('matches greedy image names with registry hosts and slashes', () => {
    const m = router.match('GET', '/images/localhost:5000/team/app:1.2/json');
    assert.ok(m && m !== 'method');
    assert.equal(m.handler, h1);
    assert.deepEqual(m.params, { name: 'localhost:5000/team/app:1.2' });
  });

  it('decodes percent-encoded segments', () => {
    const m = router.match('POST', '/containers/a%2Fb/start');
    assert.ok(m && m !== 'method');
    assert.equal(m.params.id, 'a/b');
  });

  it('tells a wrong method apart from an unknown path', () => {
    assert.equal(router.match('DELETE', '/containers/x/start'), 'method');
    assert.equal(router.match('GET', '/nothing/here'), undefined);
  });
});

describe('api version negotiation', () => {
  it('strips a supported /v1.NN prefix', () => {
    assert.deepEqual(splitVersion('/v1.41/containers/json'), { version: '1.41', path: '/containers/json' });
  });
  it('serves unprefixed paths at the current version', () => {
    assert.deepEqual(splitVersion('/_ping'), { version: '1.50', path: '/_ping' });
  });
  it('rejects too new and too old versions the way dockerd words it', () => {
    assert.throws(() => splitVersion('/v1.51/info'), (e) => isShoalError(e, 'INVALID_ARGUMENT') && /too new\. Maximum supported API version is 1\.50/.test(e.message));
    assert.throws(() => splitVersion('/v1.12/info'), (e) => isShoalError(e, 'INVALID_ARGUMENT') && /too old/.test(e.message));
  });
});

describe('stdcopy framing', () => {
  it('round-trips frames split at arbitrary byte boundaries', () => {
    const wire = Buffer.concat([frame(StreamType.Stdout, Buffer.from('hello\n')), frame(StreamType.Stderr, Buffer.from('oops')), frame(StreamType.Stdout, Buffer.alloc(0))]);
    const d = new Demuxer();
    const got: Array<[number, string]> = [];
    for (let i = 0; i < wire.length; i += 3) for (const f of d.push(wire.subarray(i, i + 3))) got.push([f.stream, f.data.toString()]);
    assert.deepEqual(got, [[1, 'hello\n'], [2, 'oops'], [1, '']]);
  });
  it('writes the 8-byte header with a big-endian length', () => {
    const f = frame(StreamType.Stderr, Buffer.from('abc'));
    assert.deepEqual([...f.subarray(0, 8)], [2, 0, 0, 0, 0, 0, 0, 3]);
  });
});

describe('listener addresses', () => {
  it('parses unix and tcp hosts like dockerd -H', () => {
    assert.deepEqual(parseHost('unix:///run/shoal/shoal.sock'), { kind: 'unix', address: '/run/shoal/shoal.sock' });
    assert.deepEqual(parseHost('tcp://127.0.0.1:2375'), { kind: 'tcp', address: '127.0.0.1:2375' });
  });
  it('rejects malformed hosts with a message naming them', () => {
    assert.throws(() => parseHost('tcp://nowhere'), /invalid host 'tcp:\/\/nowhere'/);
    assert.throws(() => parseHost('fd://'), /invalid host 'fd:\/\/'/);
  });
});
