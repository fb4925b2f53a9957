import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { EtcdStore } from '../../manager/store';
import { Bus, eventSubject } from '../../shared/bus';
import { processArgv } from '../../shared/supervisor';
import { killAndAwaitRestart, startTestEtcd, within, type TestEtcd } from '../helpers/etcd';
import { startTestNats, type TestNats } from '../helpers/nats';
import { retryUnavailable, task } from '../integration/store/conformance';

describe('kill -9 of a supervised etcd or nats-server', function () {
  this.timeout(90_000);

  describe('etcd', () => {
    let etcd: TestEtcd;
    let store: EtcdStore;
    before(async () => {
      etcd = await startTestEtcd();
      store = EtcdStore.connect(etcd.endpoints);
    });
    after(async () => {
      await store?.close();
      await etcd?.destroy();
    });

    it('is restarted by its supervisor and the store keeps its data and keeps working, twice over', async () => {
      const a = await store.create('tasks', task('before-kill'));
      for (let round = 1; round <= 2; round++) {
        const old = etcd.member.pid as number;
        const pid = await killAndAwaitRestart(etcd.member.supervisor);
        assert.notEqual(pid, old);
        assert.equal(await processArgv(old), undefined, 'the killed etcd is gone');
        assert.equal(etcd.member.supervisor.restarts, round);
        assert.deepEqual(await retryUnavailable(() => store.get('tasks', a.ID)), a);
        const b = await store.create('tasks', task(`after-kill-${round}`));
        assert.deepEqual(await store.get('tasks', b.ID), b);
      }
    });
  });

  describe('nats-server', () => {
    let nats: TestNats;
    let bus: Bus;
    const token = randomBytes(16).toString('hex');
    before(async () => {
      nats = await startTestNats({ token });
      bus = await Bus.connect(nats.url, { token });
    });
    after(async () => {
      await bus?.close();
      await nats?.destroy();
    });

    it('is restarted by its supervisor and a subscriber from before the kill gets messages published after it', async () => {
      const ctl = new AbortController();
      const it = bus.subscribe<{ n: number }>(eventSubject('node'), ctl.signal)[Symbol.asyncIterator]();
      try {
        const first = it.next();
        await bus.flush();
        bus.publish(eventSubject('node'), { n: 0 });
        assert.deepEqual((await within(first)).value, { n: 0 });

        const old = nats.server.pid as number;
        const pid = await killAndAwaitRestart(nats.server.supervisor);
        assert.notEqual(pid, old);

        // The client reconnects and re-subscribes on its own; publish until a message gets through.
        const got = it.next();
        let n = 1;
        const pub = setInterval(() => bus.publish(eventSubject('node'), { n: n++ }), 100);
        try {
          const r = await within(got, 30_000);
          assert.ok((r.value as { n: number }).n >= 1);
        } finally {
          clearInterval(pub);
        }
      } finally {
        ctl.abort();
      }
    });
  });
});
