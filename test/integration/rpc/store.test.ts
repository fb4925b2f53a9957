import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isShoalError } from '../../../shared/errors';
import { certPaths, loadNodeCredentials, removeNodeCredentials, saveNodeCredentials } from '../../../shared/rpc';
import { newSwarmId, RootCA, ROOT_CA_CERT_FILE, ROOT_CA_KEY_FILE } from '../../../manager/ca';

describe('CA and node credentials on disk', function () {
  this.timeout(20_000);
  let base: string;
  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'shoal-castore-'));
  });
  afterEach(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('creates a root CA once (key 0600) and loads the same one afterwards', async () => {
    const dir = join(base, 'ca');
    await assert.rejects(RootCA.load(dir), (e: unknown) => isShoalError(e, 'NOT_FOUND'));
    const made = await RootCA.loadOrCreate(dir);
    assert.equal((await fs.stat(join(dir, ROOT_CA_KEY_FILE))).mode & 0o777, 0o600);
    assert.equal(await fs.readFile(join(dir, ROOT_CA_CERT_FILE), 'utf8'), made.certPem);
    const again = await RootCA.loadOrCreate(dir);
    assert.equal(again.digest, made.digest);
    // The loaded root signs certificates the first one verifies.
    const creds = await again.issueCredentials({ nodeId: newSwarmId(), role: 'worker', clusterId: 'c' });
    assert.equal(made.verify(creds.certPem).role, 'worker');
  });

  it('swaps node credentials as a whole and removes them on leave', async () => {
    const ca = await RootCA.generate();
    const a = await ca.issueCredentials({ nodeId: 'n1', role: 'worker', clusterId: 'c' });
    const b = await ca.issueCredentials({ nodeId: 'n1', role: 'worker', clusterId: 'c' });
    assert.equal(await loadNodeCredentials(base), undefined);
    const paths = await saveNodeCredentials(base, a);
    assert.deepEqual(paths, certPaths(base));
    assert.equal((await fs.stat(paths.key)).mode & 0o777, 0o600);
    assert.deepEqual(await loadNodeCredentials(base), a);
    const first = await fs.readlink(paths.dir);
    await saveNodeCredentials(base, b);
    assert.deepEqual(await loadNodeCredentials(base), b);
    const second = await fs.readlink(paths.dir);
    assert.notEqual(second, first);
    assert.deepEqual((await fs.readdir(base)).sort(), ['certificates', second].sort(), 'the old set is gone, no temporary left');
    await removeNodeCredentials(base);
    assert.deepEqual(await fs.readdir(base), []);
    assert.equal(await loadNodeCredentials(base), undefined);
  });
});
