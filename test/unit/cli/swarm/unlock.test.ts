import assert from 'node:assert/strict';
import { ApiError } from '../../../../cli/client';
import { ExitError } from '../../../../cli/errors';
import { fetchUnlockKey, runUnlockKey, unlockNotice } from '../../../../cli/commands/swarm/unlock-key';
import { readSecret, runUnlock, unlockRefusal } from '../../../../cli/commands/swarm/unlock';
import { updateQuery } from '../../../../cli/commands/swarm/common';
import { FakeCli } from './fake-cli';

const KEY = 'SWMKEY-1-7c37Cc8654o6p38HnroywCi19pllOnGtbdZEgtKxZu8';
const swarm = (autolock: boolean) => ({ ID: 'sw', Version: { Index: 12 }, Spec: { Name: 'default', Labels: {}, EncryptionConfig: { AutoLockManagers: autolock } } });

describe('cli swarm unlock-key', () => {
  it("docker's notice, with shoal's command", () => {
    assert.equal(
      unlockNotice(KEY),
      'To unlock a swarm manager after it restarts, run the `shoal swarm unlock`\ncommand and provide the following key:\n\n' +
        `    ${KEY}\n\nRemember to store this key in a password manager, since without it you\nwill not be able to restart the manager.\n`,
    );
  });
  it('shows the key, or only the key with -q', async () => {
    const cli = new FakeCli({ 'GET /swarm/unlockkey': { UnlockKey: KEY } });
    await runUnlockKey(cli, {});
    assert.equal(cli.text, unlockNotice(KEY));
    const quiet = new FakeCli({ 'GET /swarm/unlockkey': { UnlockKey: KEY } });
    await runUnlockKey(quiet, { quiet: true });
    assert.equal(quiet.text, `${KEY}\n`);
    assert.deepEqual(quiet.paths, ['GET /swarm/unlockkey']);
  });
  it('no key set is an error', async () => {
    const cli = new FakeCli({ 'GET /swarm/unlockkey': { UnlockKey: '' } });
    await assert.rejects(runUnlockKey(cli, { quiet: true }), (e: unknown) => e instanceof ExitError && e.code === 1 && e.message === 'no unlock key is set');
    assert.equal(cli.text, '');
  });
  it('--rotate: refused without autolock, before any update', async () => {
    const cli = new FakeCli({ 'GET /swarm': swarm(false) });
    await assert.rejects(runUnlockKey(cli, { rotate: true }), /^ExitError: cannot rotate because autolock is not turned on$/);
    assert.deepEqual(cli.paths, ['GET /swarm']);
  });
  it('--rotate: the same spec and version back with rotateManagerUnlockKey, then the new key', async () => {
    const cli = new FakeCli({ 'GET /swarm': swarm(true), 'POST /swarm/update': undefined, 'GET /swarm/unlockkey': { UnlockKey: KEY } });
    await runUnlockKey(cli, { rotate: true });
    assert.deepEqual(cli.paths, ['GET /swarm', 'POST /swarm/update', 'GET /swarm/unlockkey']);
    assert.deepEqual(cli.calls[1].query, { rotateManagerToken: 'false', rotateManagerUnlockKey: 'true', rotateWorkerToken: 'false', version: 12 });
    assert.deepEqual(cli.calls[1].body, swarm(true).Spec);
    assert.equal(cli.text, `Successfully rotated manager unlock key.\n${unlockNotice(KEY)}`);
    const quiet = new FakeCli({ 'GET /swarm': swarm(true), 'POST /swarm/update': undefined, 'GET /swarm/unlockkey': { UnlockKey: KEY } });
    await runUnlockKey(quiet, { rotate: true, quiet: true });
    assert.equal(quiet.text, `${KEY}\n`);
  });
  it("a daemon refusal is wrapped as docker wraps it", async () => {
    const cli = new FakeCli({
      'GET /swarm/unlockkey': () => {
        throw new ApiError(503, 'This node is not a swarm manager.');
      },
    });
    await assert.rejects(fetchUnlockKey(cli), { message: 'could not fetch unlock key: Error response from daemon: This node is not a swarm manager.' });
  });
  it('update queries name every rotation flag', () => {
    assert.deepEqual(updateQuery(3), { rotateManagerToken: 'false', rotateManagerUnlockKey: 'false', rotateWorkerToken: 'false', version: 3 });
    assert.deepEqual(updateQuery(4, { worker: true }), { rotateManagerToken: 'false', rotateManagerUnlockKey: 'false', rotateWorkerToken: 'true', version: 4 });
  });
});

describe('cli swarm unlock', () => {
  it("refuses a node that is not locked with docker's texts", () => {
    assert.equal(unlockRefusal('inactive'), 'Error: This node is not part of a swarm');
    for (const s of ['active', 'pending', 'error']) assert.equal(unlockRefusal(s), 'Error: swarm is not locked');
    assert.equal(unlockRefusal('locked'), undefined);
    assert.equal(unlockRefusal(''), undefined, 'a state docker does not know asks for the key');
  });
  it('an inactive node is refused without reading stdin', async () => {
    const cli = new FakeCli({ 'GET /info': { Swarm: { LocalNodeState: 'inactive' } } });
    await assert.rejects(runUnlock(cli), (e: unknown) => e instanceof ExitError && e.code === 1 && e.message === 'Error: This node is not part of a swarm');
    assert.deepEqual(cli.paths, ['GET /info']);
  });
  it('a locked node: the first line of stdin, trimmed, without a prompt', async () => {
    const cli = new FakeCli({ 'GET /info': { Swarm: { LocalNodeState: 'locked' } }, 'POST /swarm/unlock': undefined });
    cli.stdin.end(`  ${KEY} \r\nmore\n`);
    await runUnlock(cli);
    assert.deepEqual(cli.paths, ['GET /info', 'POST /swarm/unlock']);
    assert.deepEqual(cli.calls[1].body, { UnlockKey: KEY });
    assert.equal(cli.text, '');
  });
  it('an empty stdin sends an empty key (the daemon refuses it)', async () => {
    const cli = new FakeCli({ 'GET /info': { Swarm: { LocalNodeState: 'locked' } }, 'POST /swarm/unlock': undefined });
    cli.stdin.end();
    await runUnlock(cli);
    assert.deepEqual(cli.calls[1].body, { UnlockKey: '' });
  });
  it('on a terminal: prompt, no echo, backspace edits, newline after', async () => {
    const cli = new FakeCli({ 'GET /info': { Swarm: { LocalNodeState: 'locked' } }, 'POST /swarm/unlock': undefined }, { stdinTty: true });
    const done = runUnlock(cli);
    await new Promise((r) => setImmediate(r));
    cli.stdin.write('SWMKEY-1-ab\x7fc');
    cli.stdin.write('\r');
    await done;
    assert.equal(cli.text, 'Enter unlock key: \n');
    assert.deepEqual(cli.calls[1].body, { UnlockKey: 'SWMKEY-1-ac' });
    assert.deepEqual(cli.stdin.rawModes, [true, false], 'the terminal mode is restored');
  });
  it('on a terminal: Ctrl-C gives up with 130, end of input on an empty line is EOF', async () => {
    const cli = new FakeCli({}, { stdinTty: true });
    const p = readSecret(cli.stdin);
    cli.stdin.write('abc\x03');
    await assert.rejects(p, (e: unknown) => e instanceof ExitError && e.code === 130);
    assert.deepEqual(cli.stdin.rawModes, [true, false]);
    const eof = new FakeCli({}, { stdinTty: true });
    const q = readSecret(eof.stdin);
    eof.stdin.write('\x04');
    await assert.rejects(q, { message: 'EOF' });
  });
});
