import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isShoalError } from '../../../shared/errors';
import { liveDir, newUnlockKey, opensWith, readKeyFile, removeLiveDir, setKek, SWARM_LOCKED, writeKeyFile, WrongKeyError } from '../../../shared/keys';
import { certPaths, loadNodeCredentials, nodeKeySealedWith, removeNodeCredentials, saveNodeCredentials } from '../../../shared/rpc/certstore';
import { loadDataKey, newDataKey, saveDataKey } from '../../../manager/secrets';
import { RootCA, newSwarmId } from '../../../manager/ca';

const locked = (e: unknown) => isShoalError(e, 'UNAVAILABLE') && (e as Error).message === SWARM_LOCKED;

/** Every file under dir whose bytes hold a PEM private key in the clear. */
async function plaintextKeys(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of await fs.readdir(dir, { recursive: true })) {
    const p = join(dir, name);
    const st = await fs.lstat(p);
    if (st.isFile() && (await fs.readFile(p, 'utf8')).includes('PRIVATE KEY')) out.push(name);
  }
  return out;
}

describe('keys at rest: sealed key files, node credentials and the live copy (real files, /dev/shm)', function () {
  this.timeout(20_000);
  let base: string;
  let stateDir: string;
  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'shoal-keys-'));
    stateDir = join(base, 'swarm');
    await fs.mkdir(stateDir);
  });
  afterEach(async () => {
    setKek(stateDir, undefined);
    await removeLiveDir(stateDir);
    await rm(base, { recursive: true, force: true });
  });

  it('writes a key in the clear without a KEK and sealed with one, one form at a time', async () => {
    const p = join(stateDir, 'x.key');
    await writeKeyFile(p, 'secret-1');
    assert.equal(await fs.readFile(p, 'utf8'), 'secret-1');
    assert.equal((await fs.stat(p)).mode & 0o777, 0o600);
    const kek = newUnlockKey();
    setKek(stateDir, kek);
    await writeKeyFile(p, 'secret-2');
    await assert.rejects(fs.access(p));
    const sealed = await fs.readFile(`${p}.sealed`, 'utf8');
    assert.ok(!sealed.includes('secret-2'));
    assert.equal(await readKeyFile(p), 'secret-2');
    assert.equal(await opensWith(p, kek), true);
    assert.equal(await opensWith(p, newUnlockKey()), false);
    // Another KEK registered: the file says which key it wants.
    setKek(stateDir, newUnlockKey());
    await assert.rejects(readKeyFile(p), (e: unknown) => e instanceof WrongKeyError);
    // No KEK at all: locked, in Docker's words.
    setKek(stateDir, undefined);
    await assert.rejects(readKeyFile(p), locked);
    setKek(stateDir, kek);
    setKek(stateDir, undefined);
    await writeKeyFile(p, 'secret-3');
    await assert.rejects(fs.access(`${p}.sealed`));
    assert.equal(await readKeyFile(p), 'secret-3');
  });

  it('seals the node key, the data key and the CA key, keeps a live copy in RAM, and needs the KEK after a restart', async () => {
    const ca = await RootCA.generate();
    const creds = await ca.issueCredentials({ nodeId: newSwarmId(), role: 'manager', clusterId: 'c' });
    const dataKey = newDataKey();
    const kek = newUnlockKey();
    setKek(stateDir, kek);
    await saveNodeCredentials(stateDir, creds);
    await saveDataKey(stateDir, dataKey);
    await ca.save(join(stateDir, 'ca'));
    assert.deepEqual(await plaintextKeys(stateDir), [], 'no private key in the clear under the swarm directory');
    assert.equal(await nodeKeySealedWith(stateDir), kek.id);
    // Programs that read the key from its path (etcd, nats-server) find the live copy.
    const p = certPaths(stateDir);
    assert.equal(await fs.readFile(p.key, 'utf8'), creds.keyPem);
    assert.ok((await fs.realpath(p.key)).startsWith(liveDir(stateDir)));
    // "Restart": the KEK is forgotten and the RAM copy is gone.
    setKek(stateDir, undefined);
    await removeLiveDir(stateDir);
    await assert.rejects(loadNodeCredentials(stateDir), locked);
    await assert.rejects(loadDataKey(stateDir), locked);
    await assert.rejects(RootCA.load(join(stateDir, 'ca')), locked);
    // Unlocked: everything opens and the live copy is back where the link points.
    setKek(stateDir, kek);
    assert.equal((await loadNodeCredentials(stateDir))?.keyPem, creds.keyPem);
    assert.equal(await fs.readFile(p.key, 'utf8'), creds.keyPem);
    assert.equal((await loadDataKey(stateDir))?.id, dataKey.id);
    assert.equal((await RootCA.load(join(stateDir, 'ca'))).digest, ca.digest);
    // Autolock off: saved again in the clear, the old live copy removed with its set.
    setKek(stateDir, undefined);
    await saveNodeCredentials(stateDir, creds);
    assert.equal(await nodeKeySealedWith(stateDir), undefined);
    assert.deepEqual(await fs.readdir(liveDir(stateDir)), []);
    await removeNodeCredentials(stateDir);
    assert.equal(await loadNodeCredentials(stateDir), undefined);
  });
});
