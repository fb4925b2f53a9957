import assert from 'node:assert/strict';
import { pushManifest, parseImageManifest } from '../../../worker/engine/registry';
import { DOCKER_CONFIG, DOCKER_LAYER, DOCKER_LAYER_GZIP, DOCKER_MANIFEST, OCI_CONFIG, OCI_INDEX, OCI_LAYER, OCI_LAYER_GZIP, OCI_MANIFEST, type ImageManifest } from '../../../worker/engine/registry/mediatypes';

const dg = (c: string) => `sha256:${c.repeat(64)}`;

function manifest(mediaType: string, configType: string, layerTypes: string[]): { raw: Buffer; m: ImageManifest } {
  const m: ImageManifest = { schemaVersion: 2, mediaType, config: { mediaType: configType, digest: dg('c'), size: 10 }, layers: layerTypes.map((t, i) => ({ mediaType: t, digest: dg(String(i)), size: 100 + i })) };
  return { raw: Buffer.from(JSON.stringify(m, null, 3)), m };
}

describe('registry manifests to push', () => {
  it('sends a stored Docker schema2 manifest byte for byte (its digest stays)', () => {
    const { raw, m } = manifest(DOCKER_MANIFEST, DOCKER_CONFIG, [DOCKER_LAYER_GZIP, DOCKER_LAYER_GZIP]);
    const out = pushManifest(raw, m);
    assert.equal(out.mediaType, DOCKER_MANIFEST);
    assert.equal(out.raw, raw);
  });

  it('sends a stored OCI manifest with OCI layers byte for byte', () => {
    const { raw, m } = manifest(OCI_MANIFEST, OCI_CONFIG, [OCI_LAYER]);
    const out = pushManifest(raw, m);
    assert.equal(out.mediaType, OCI_MANIFEST);
    assert.equal(out.raw, raw);
  });

  it('turns an OCI manifest whose layers all have Docker types into Docker schema2', () => {
    const { raw, m } = manifest(OCI_MANIFEST, OCI_CONFIG, [DOCKER_LAYER_GZIP, DOCKER_LAYER]);
    const out = pushManifest(raw, m);
    assert.equal(out.mediaType, DOCKER_MANIFEST);
    const j = JSON.parse(out.raw.toString()) as ImageManifest;
    assert.equal(j.mediaType, DOCKER_MANIFEST);
    assert.equal(j.config.mediaType, DOCKER_CONFIG);
    assert.deepEqual(j.layers.map((l) => [l.mediaType, l.digest, l.size]), [
      [DOCKER_LAYER_GZIP, dg('0'), 100],
      [DOCKER_LAYER, dg('1'), 101],
    ]);
  });

  it('makes a mixed manifest OCI, keeping each layer\'s compression and digest', () => {
    const { raw, m } = manifest(OCI_MANIFEST, OCI_CONFIG, [DOCKER_LAYER_GZIP, OCI_LAYER]);
    const out = pushManifest(raw, m);
    assert.equal(out.mediaType, OCI_MANIFEST);
    assert.notEqual(out.raw, raw);
    const j = JSON.parse(out.raw.toString()) as ImageManifest;
    assert.deepEqual(j.layers.map((l) => [l.mediaType, l.digest]), [
      [OCI_LAYER_GZIP, dg('0')],
      [OCI_LAYER, dg('1')],
    ]);
    assert.equal(j.config.digest, dg('c'));
  });

  it('checks fetched manifests are schema-2 image manifests with sane descriptors', () => {
    const ok = manifest(DOCKER_MANIFEST, DOCKER_CONFIG, [DOCKER_LAYER_GZIP]);
    assert.equal(parseImageManifest({ mediaType: DOCKER_MANIFEST, digest: dg('d'), raw: ok.raw }, 'x').layers.length, 1);
    assert.throws(() => parseImageManifest({ mediaType: OCI_INDEX, digest: dg('d'), raw: ok.raw }, 'x:1'), /manifest for x:1: unsupported manifest media type/);
    const bad = { ...ok.m, layers: [{ mediaType: DOCKER_LAYER, digest: 'sha256:zz', size: 1 }] };
    assert.throws(() => parseImageManifest({ mediaType: DOCKER_MANIFEST, digest: dg('d'), raw: Buffer.from(JSON.stringify(bad)) }, 'x'), /invalid descriptor/);
    const neg = { ...ok.m, config: { ...ok.m.config, size: -1 } };
    assert.throws(() => parseImageManifest({ mediaType: DOCKER_MANIFEST, digest: dg('d'), raw: Buffer.from(JSON.stringify(neg)) }, 'x'), /invalid descriptor/);
  });
});
