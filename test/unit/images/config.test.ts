import assert from 'node:assert/strict';
import { applyChanges, childConfig, importConfig, decodeConfig, encodeConfig, historyWithLayers, splitWords } from '../../../worker/engine/images/config';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;

describe('images/config', () => {
  it('builds an import config with one layer and a history entry', () => {
    const created = new Date('2024-01-02T03:04:05Z');
    const doc = importConfig({ diffId: D1, created, config: { Cmd: ['sh'] } });
    assert.deepEqual(doc.rootfs, { type: 'layers', diff_ids: [D1] });
    assert.equal(doc.os, 'linux');
    assert.equal(doc.created, '2024-01-02T03:04:05.000Z');
    assert.deepEqual(doc.history, [{ created: '2024-01-02T03:04:05.000Z', comment: 'Imported from -' }]);
    assert.equal(doc.comment, undefined);
    const withMsg = importConfig({ diffId: D1, created, message: 'hello' });
    assert.equal(withMsg.comment, 'hello');
    assert.equal(withMsg.history![0].comment, 'hello');
    // Round trip through the encoder is exact (the bytes are the image ID).
    assert.deepEqual(decodeConfig(encodeConfig(doc)), doc);
  });

  it('builds a child config that extends layers and history', () => {
    const parent = importConfig({ diffId: D1, created: new Date(0) });
    const child = childConfig(parent, { diffId: D2, created: new Date(1000), createdBy: '/bin/sh -c touch x', config: { Env: ['A=1'] }, author: 'me', comment: 'c' });
    assert.deepEqual(child.rootfs.diff_ids, [D1, D2]);
    assert.equal(child.history!.length, 2);
    assert.deepEqual(child.history![1], { created: '1970-01-01T00:00:01.000Z', author: 'me', created_by: '/bin/sh -c touch x', comment: 'c' });
    assert.deepEqual(child.config, { Env: ['A=1'] });
    const meta = childConfig(child, { created: new Date(2000), createdBy: 'ENV B=2', config: {} });
    assert.deepEqual(meta.rootfs.diff_ids, [D1, D2]);
    assert.equal(meta.history![2].empty_layer, true);
    const scratch = childConfig(undefined, { diffId: D1, created: new Date(0), createdBy: 'COPY x /', config: {} });
    assert.deepEqual(scratch.rootfs.diff_ids, [D1]);
  });

  it('pairs history entries with layers, skipping empty ones', () => {
    const parent = importConfig({ diffId: D1, created: new Date(0) });
    const meta = childConfig(parent, { created: new Date(0), createdBy: 'ENV A=1', config: {} });
    const child = childConfig(meta, { diffId: D2, created: new Date(0), createdBy: 'RUN x', config: {} });
    assert.deepEqual(historyWithLayers(child).map((h) => h.layerIndex), [0, undefined, 1]);
  });

  it('rejects configs without proper diff_ids', () => {
    assert.throws(() => decodeConfig('nope'), /invalid image config/);
    assert.throws(() => decodeConfig('{"rootfs":{"type":"layers","diff_ids":["x"]}}'), /diff_ids/);
    assert.throws(() => decodeConfig('[]'), /not a JSON object/);
  });

  it('applies Dockerfile changes', () => {
    const cfg = applyChanges({ Env: ['PATH=/bin'] }, [
      'CMD ["sh", "-c", "echo hi"]',
      'ENTRYPOINT /bin/entry --flag',
      'ENV PATH=/usr/bin:/bin A="b c"',
      'ENV LEGACY some value',
      'LABEL a=b "c d"=e',
      'EXPOSE 80 53/udp 1000-1001',
      'VOLUME ["/data", "/logs"]',
      'USER nobody',
      'WORKDIR /srv',
      'WORKDIR app',
      'STOPSIGNAL SIGINT',
      'ONBUILD RUN make',
    ]);
    assert.deepEqual(cfg.Cmd, ['sh', '-c', 'echo hi']);
    assert.deepEqual(cfg.Entrypoint, ['/bin/sh', '-c', '/bin/entry --flag']);
    assert.deepEqual(cfg.Env, ['PATH=/usr/bin:/bin', 'A=b c', 'LEGACY=some value']);
    assert.deepEqual(cfg.Labels, { a: 'b', 'c d': 'e' });
    assert.deepEqual(Object.keys(cfg.ExposedPorts!), ['80/tcp', '53/udp', '1000/tcp', '1001/tcp']);
    assert.deepEqual(Object.keys(cfg.Volumes!), ['/data', '/logs']);
    assert.equal(cfg.User, 'nobody');
    assert.equal(cfg.WorkingDir, '/srv/app');
    assert.equal(cfg.StopSignal, 'SIGINT');
    assert.deepEqual(cfg.OnBuild, ['RUN make']);
  });

  it('refuses instructions import cannot apply', () => {
    assert.throws(() => applyChanges({}, ['RUN rm -rf /']), /RUN is not a valid change command/);
    assert.throws(() => applyChanges({}, ['EXPOSE abc']), /invalid containerPort/);
    assert.throws(() => applyChanges({}, ['ENV']), /ENV requires/);
    assert.throws(() => applyChanges({}, ['LABEL "a=b']), /unterminated quote/);
  });

  it('splits words with quotes and escapes', () => {
    assert.deepEqual(splitWords(`a "b c" 'd e' f\\ g ""`), ['a', 'b c', 'd e', 'f g', '']);
  });
});
