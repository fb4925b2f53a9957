// Autolock on a lab of three managers and a worker: keys sealed at rest on every manager, a
// manager killed with -9 comes back locked until `docker swarm unlock`, the unlock key rotated
// while a manager is down, and autolock turned off again. Real shoald, etcd, NATS, crun.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { startLab, type TestLab } from '../helpers/lab';
import { busyboxService, eventually, running, taskContainers } from '../helpers/swarm';
import { nodeKeySealedWith } from '../../shared/rpc/certstore';
import { parseUnlockKey } from '../../shared/keys';

interface ManagerNode {
  Description: { Hostname: string };
  ManagerStatus?: { Leader?: boolean; Reachability?: string };
}

const MANAGERS = ['m1', 'm2', 'm3'];

describe('autolock: managers keep their keys sealed and restart locked (real shoald, docker CLI)', function () {
  this.timeout(600_000);
  let lab: TestLab;
  let key1 = '';
  let steady = '';
  let steadyContainers: string[] = [];
  const payload = `autolock-secret-${randomBytes(8).toString('hex')}`;

  const swarmDir = (host: string) => join(lab.lab.host(host).dataRoot, 'swarm');
  const keyId = (text: string) => parseUnlockKey(text).id;
  const sealedWith = (host: string) => nodeKeySealedWith(swarmDir(host));
  const localState = async (host: string) => (await lab.host(host).client.get<{ Swarm: { LocalNodeState: string } }>('/info')).Swarm.LocalNodeState;
  const unlock = (host: string, key: string) => lab.docker(host, ['swarm', 'unlock'], { input: `${key}\n` });
  const allReachable = (via: string) =>
    eventually(`every manager reachable from ${via}`, async () => {
      const ms = (await lab.host(via).client.get<ManagerNode[]>('/nodes')).filter((n) => n.ManagerStatus);
      return ms.length === 3 && ms.every((n) => n.ManagerStatus!.Reachability === 'reachable') && ms.some((n) => n.ManagerStatus!.Leader);
    }, 90_000);
  const sealedEverywhere = (hosts: string[], id: string | undefined) =>
    eventually(`${hosts.join(', ')} sealed with ${id ?? 'nothing'}`, async () => {
      for (const h of hosts) if ((await sealedWith(h)) !== id) return false;
      return true;
    });
  const steadyUntouched = async () => {
    await running(lab.host('m1').client, steady, 2);
    assert.deepEqual((await taskContainers(lab.host('w1').client, steady)).filter((c) => c.State === 'running').map((c) => c.Id).sort(), steadyContainers);
  };
  /** Files under dir (symlinks not followed) whose bytes contain any of `needles`. */
  const filesHolding = async (dir: string, needles: string[]): Promise<string[]> => {
    const found: string[] = [];
    for (const name of await fs.readdir(dir, { recursive: true })) {
      const p = join(dir, name);
      // A file replaced while we read (etcd's WAL, a key being resealed) is read in its new form on the next try.
      const bytes = await fs
        .lstat(p)
        .then((st) => (st.isFile() ? fs.readFile(p) : undefined))
        .catch(() => undefined);
      if (!bytes) continue;
      if (needles.some((n) => bytes.includes(n))) found.push(name);
    }
    return found;
  };

  before(async () => {
    lab = await startLab({ managers: 3, workers: 1, autolock: true });
    key1 = (await lab.host('m1').client.get<{ UnlockKey: string }>('/swarm/unlockkey')).UnlockKey;
    assert.match(key1, /^SWMKEY-1-/);
    await lab.host('m1').client.post('/secrets/create', { body: { Name: 'precious', Data: Buffer.from(payload).toString('base64') } });
    steady = (await lab.host('m1').client.post<{ ID: string }>('/services/create', { body: busyboxService('steady', { Mode: { Replicated: { Replicas: 2 } }, TaskTemplate: { ContainerSpec: { Image: 'busybox', Command: ['sleep', '3600'], StopGracePeriod: 1e9 }, Placement: { Constraints: ['node.hostname==w1'] } } }) })).ID;
    await running(lab.host('m1').client, steady, 2);
    steadyContainers = (await taskContainers(lab.host('w1').client, steady)).map((c) => c.Id).sort();
    assert.equal(steadyContainers.length, 2);
    await allReachable('m1');
  });
  after(async () => {
    await lab?.down();
  });

  it('seals every manager\'s keys with the unlock key: no private key or secret in the clear on their disks; the worker is not locked', async () => {
    await sealedEverywhere(MANAGERS, keyId(key1));
    assert.equal((await lab.host('m2').client.get<{ Spec: { EncryptionConfig: { AutoLockManagers: boolean } } }>('/swarm')).Spec.EncryptionConfig.AutoLockManagers, true);
    for (const m of MANAGERS) {
      // The whole swarm directory, etcd's data included.
      assert.deepEqual(await filesHolding(swarmDir(m), ['PRIVATE KEY', payload, Buffer.from(payload).toString('base64')]), [], `${m} holds nothing secret in the clear`);
    }
    assert.equal(await sealedWith('w1'), undefined);
    assert.match(await fs.readFile(join(swarmDir('w1'), 'certificates', 'swarm-node.key'), 'utf8'), /PRIVATE KEY/);
  });

  it('kill -9 of a manager: it comes back locked, refuses a wrong key, and the docker CLI unlocks it', async () => {
    await lab.kill('m3');
    await lab.start('m3');
    assert.equal(await localState('m3'), 'locked');
    const ls = await lab.docker('m3', ['node', 'ls']);
    assert.notEqual(ls.code, 0);
    assert.match(ls.stderr, /Swarm is encrypted and needs to be unlocked before it can be used/);
    // Tasks elsewhere are untouched while m3 is locked.
    await steadyUntouched();
    const wrong = await unlock('m3', `SWMKEY-1-${randomBytes(32).toString('base64').replace(/=+$/, '')}`);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /invalid key provided/);
    assert.equal(await localState('m3'), 'locked');
    const ok = await unlock('m3', key1);
    assert.equal(ok.code, 0, ok.stderr);
    // The answer comes once the manager runs: its API serves at once.
    const after = await lab.docker('m3', ['node', 'ls']);
    assert.equal(after.code, 0, after.stderr);
    await eventually('m3 active', async () => (await localState('m3')) === 'active');
    await allReachable('m3');
    await steadyUntouched();
  });

  it('unlock-key --rotate with a manager down: the others reseal; the stale one opens with the key it was sealed with and catches up', async () => {
    await lab.kill('m2');
    const rotated = await lab.docker('m1', ['swarm', 'unlock-key', '--rotate', '-q']);
    assert.equal(rotated.code, 0, rotated.stderr);
    const key2 = rotated.stdout.trim();
    assert.match(key2, /^SWMKEY-1-/);
    assert.notEqual(key2, key1);
    await sealedEverywhere(['m1', 'm3'], keyId(key2));
    assert.equal(await sealedWith('m2'), keyId(key1));
    await lab.start('m2');
    assert.equal(await localState('m2'), 'locked');
    const withNew = await unlock('m2', key2);
    assert.notEqual(withNew.code, 0);
    assert.match(withNew.stderr, /invalid key provided/);
    const withOld = await unlock('m2', key1);
    assert.equal(withOld.code, 0, withOld.stderr);
    await sealedEverywhere(['m2'], keyId(key2));
    await allReachable('m2');
    await steadyUntouched();
  });

  it('a promoted worker seals its keys with the current unlock key; demoted again, it keeps them in the clear', async () => {
    const current = (await lab.host('m1').client.get<{ UnlockKey: string }>('/swarm/unlockkey')).UnlockKey;
    const promote = await lab.docker('m1', ['node', 'promote', 'w1']);
    assert.equal(promote.code, 0, promote.stderr);
    await eventually('w1 a reachable manager', async () => (await lab.host('m1').client.get<ManagerNode[]>('/nodes')).some((n) => n.Description.Hostname === 'w1' && n.ManagerStatus?.Reachability === 'reachable'), 90_000);
    await sealedEverywhere(['w1'], keyId(current));
    assert.deepEqual(await filesHolding(swarmDir('w1'), ['PRIVATE KEY']), []);
    const demote = await lab.docker('m1', ['node', 'demote', 'w1']);
    assert.equal(demote.code, 0, demote.stderr);
    await sealedEverywhere(['w1'], undefined);
    assert.match(await fs.readFile(join(swarmDir('w1'), 'certificates', 'swarm-node.key'), 'utf8'), /PRIVATE KEY/);
    // Demoted while its promotion is still starting: the newest role wins, keys in the clear.
    assert.equal((await lab.docker('m1', ['node', 'promote', 'w1'])).code, 0);
    await eventually('w1 sealed by the promotion', async () => (await sealedWith('w1')) === keyId(current), 30_000).catch(() => undefined);
    assert.equal((await lab.docker('m1', ['node', 'demote', 'w1'])).code, 0);
    await eventually('w1 a worker again, its info says so', async () => !(await lab.host('w1').client.get<{ Swarm: { ControlAvailable: boolean } }>('/info')).Swarm.ControlAvailable);
    await sealedEverywhere(['w1'], undefined);
    await allReachable('m1');
    await steadyUntouched();
  });

  it('autolock off: every manager keeps its keys in the clear again, and a restarted manager is not locked', async () => {
    const off = await lab.docker('m1', ['swarm', 'update', '--autolock=false']);
    assert.equal(off.code, 0, off.stderr);
    await sealedEverywhere(MANAGERS, undefined);
    const none = await lab.docker('m1', ['swarm', 'unlock-key']);
    assert.notEqual(none.code, 0);
    assert.match(none.stderr, /no unlock key is set/);
    await lab.kill('m1');
    await lab.start('m1');
    assert.notEqual(await localState('m1'), 'locked');
    const notLocked = await lab.docker('m1', ['swarm', 'unlock'], { input: '\n' });
    assert.notEqual(notLocked.code, 0);
    assert.match(notLocked.stderr, /swarm is not locked/);
    await allReachable('m1');
    await steadyUntouched();
  });
});
