import assert from 'node:assert/strict';
import { errorMessageOf, humanSize, progressBar, shortDigest } from '../../../worker/engine/registry';
import { auxMessage, layerProgress, layerStatus, status } from '../../../worker/engine/registry/progress';
import { describeEntries, parseErrorBody } from '../../../worker/engine/registry/errors';
import { ShoalError } from '../../../shared/errors';

describe('registry progress messages', () => {
  it('shapes status, per-layer and aux messages as dockerd does', () => {
    assert.deepEqual(status('Pulling from library/busybox', 'latest'), { status: 'Pulling from library/busybox', id: 'latest' });
    assert.deepEqual(status('Digest: sha256:abc'), { status: 'Digest: sha256:abc' });
    assert.deepEqual(layerStatus('Pull complete', 'abcdef012345'), { status: 'Pull complete', progressDetail: {}, id: 'abcdef012345' });
    assert.deepEqual(layerProgress('Downloading', 'abcdef012345', 500, 1000), {
      status: 'Downloading',
      progressDetail: { current: 500, total: 1000 },
      progress: `[${'='.repeat(25)}>${' '.repeat(24)}]     500B/1kB`,
      id: 'abcdef012345',
    });
    assert.deepEqual(auxMessage({ Tag: '1', Digest: 'sha256:x', Size: 527 }), { progressDetail: {}, aux: { Tag: '1', Digest: 'sha256:x', Size: 527 } });
  });

  it('reports a mid-stream error with errorDetail and error', () => {
    assert.deepEqual(errorMessageOf(new ShoalError('NOT_FOUND', 'manifest for x:1 not found: manifest unknown')), {
      errorDetail: { message: 'manifest for x:1 not found: manifest unknown' },
      error: 'manifest for x:1 not found: manifest unknown',
    });
  });

  it('prints sizes with three significant digits in decimal units', () => {
    assert.equal(humanSize(0), '0B');
    assert.equal(humanSize(527), '527B');
    assert.equal(humanSize(12345), '12.3kB');
    assert.equal(humanSize(2_150_000), '2.15MB');
    assert.equal(humanSize(1_000_000_000), '1GB');
  });

  it('draws a full bar at the end and no bar without a total', () => {
    assert.equal(progressBar(1000, 1000), `[${'='.repeat(50)}]      1kB/1kB`);
    assert.equal(progressBar(1234, 0), '1.23kB');
  });

  it('takes the 12-hex short form of a digest', () => {
    assert.equal(shortDigest('sha256:0123456789abcdef0123'), '0123456789ab');
  });

  it('words registry error bodies as docker does', () => {
    const entries = parseErrorBody(404, '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"x"}}]}');
    assert.equal(describeEntries(entries), 'manifest unknown: manifest unknown');
    assert.equal(describeEntries(parseErrorBody(500, '<html>oops</html>')), 'unknown: <html>oops</html>');
    assert.equal(describeEntries(parseErrorBody(404, '')), 'not found: HTTP 404');
  });
});
