import assert from 'node:assert/strict';
import { parsePlatform, selectPlatform } from '../../../worker/engine/registry';
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST, type ImageIndex } from '../../../worker/engine/registry/mediatypes';

const d = (n: string, platform?: Record<string, string>, mediaType = OCI_MANIFEST) => ({ mediaType, digest: `sha256:${n.repeat(64)}`, size: 100, ...(platform ? { platform: platform as never } : {}) });

describe('registry platform selection', () => {
  it('picks linux/amd64 out of a multi-arch OCI index', () => {
    const idx: ImageIndex = {
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [d('1', { os: 'linux', architecture: 'arm64', variant: 'v8' }), d('2', { os: 'linux', architecture: 'amd64' }), d('3', { os: 'windows', architecture: 'amd64' })],
    };
    assert.equal(selectPlatform(idx).digest, `sha256:${'2'.repeat(64)}`);
  });

  it('ignores attestation manifests (unknown/unknown) and non-manifest entries', () => {
    const idx: ImageIndex = {
      schemaVersion: 2,
      manifests: [d('a', { os: 'unknown', architecture: 'unknown' }), d('b', { os: 'linux', architecture: 'amd64' }, OCI_INDEX), d('c', { os: 'linux', architecture: 'amd64' }, DOCKER_MANIFEST)],
    };
    assert.equal(selectPlatform(idx).digest, `sha256:${'c'.repeat(64)}`);
  });

  it('prefers an entry without a variant when none is asked, and the exact variant when one is', () => {
    const idx: ImageIndex = {
      schemaVersion: 2,
      mediaType: DOCKER_MANIFEST_LIST,
      manifests: [d('1', { os: 'linux', architecture: 'arm', variant: 'v6' }), d('2', { os: 'linux', architecture: 'arm', variant: 'v7' }), d('3', { os: 'linux', architecture: 'arm' })],
    };
    assert.equal(selectPlatform(idx, { os: 'linux', architecture: 'arm' }).digest, `sha256:${'3'.repeat(64)}`);
    assert.equal(selectPlatform(idx, { os: 'linux', architecture: 'arm', variant: 'v7' }).digest, `sha256:${'2'.repeat(64)}`);
  });

  it('is NOT_FOUND when no entry matches, naming what the index has', () => {
    const idx: ImageIndex = { schemaVersion: 2, manifests: [d('1', { os: 'linux', architecture: 'arm64' }), d('2', { os: 'unknown', architecture: 'unknown' }), d('3')] };
    assert.throws(() => selectPlatform(idx), { code: 'NOT_FOUND', message: 'no matching manifest for linux/amd64 in the manifest list entries (available: linux/arm64)' });
  });

  it('parses ?platform= values', () => {
    assert.deepEqual(parsePlatform(''), { os: 'linux', architecture: 'amd64' });
    assert.deepEqual(parsePlatform('linux/arm/v7'), { os: 'linux', architecture: 'arm', variant: 'v7' });
    assert.deepEqual(parsePlatform('Linux/AMD64'), { os: 'linux', architecture: 'amd64' });
  });
});
