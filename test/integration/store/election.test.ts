import assert from 'node:assert/strict';
import type { Etcd3 } from 'etcd3';
import { LeaderElection, type Leadership } from '../../../manager/election';
import { createEtcdClient } from '../../../manager/etcd';
import { isShoalError } from '../../../shared/errors';
import { startTcpProxy, startTestEtcd, within, type TcpProxy, type TestEtcd } from '../../helpers/etcd';

/** Resolves when a signal aborts. */
const aborted = (s: AbortSignal) => new Promise<void>((r) => (s.aborted ? r() : s.addEventListener('abort', () => r(), { once: true })));

describe('leader election over a real etcd', function () {
  this.timeout(60_000);
  let etcd: TestEtcd;
  const clients: Etcd3[] = [];
  const ctls: AbortController[] = [];
  const held: Leadership[] = [];
  let n = 0;

  const candidate = (endpoint?: string) => {
    const c = endpoint ? createEtcdClient([endpoint]) : etcd.client();
    clients.push(c);
    return new LeaderElection(c, { name: `test${n}`, ttlSeconds: 2 });
  };
  const signal = () => {
    const c = new AbortController();
    ctls.push(c);
    return c.signal;
  };

  before(async () => {
    etcd = await startTestEtcd();
  });
  beforeEach(() => n++);
  afterEach(async () => {
    for (const c of ctls.splice(0)) c.abort();
    for (const l of held.splice(0)) await l.resign();
  });
  after(async () => {
    for (const c of clients) c.close();
    await etcd?.destroy();
  });

  it('elects one of two candidates; the other leads once the first resigns', async () => {
    const a = candidate();
    const b = candidate();
    const la = await a.campaign('node-a', signal());
    held.push(la);
    let bLeads = false;
    const pb = b.campaign('node-b', signal()).then((l) => {
      bLeads = true;
      held.push(l);
      return l;
    });
    assert.equal(await b.leader(), 'node-a');
    const obs = b.observe(signal())[Symbol.asyncIterator]();
    assert.equal((await within(obs.next())).value, 'node-a');
    assert.equal(bLeads, false, 'only one candidate leads');
    assert.equal(la.signal.aborted, false);

    await la.resign();
    assert.equal(la.signal.aborted, true);
    assert.equal(la.reason, 'resigned');
    const lb = await within(pb);
    assert.equal(lb.nodeId, 'node-b');
    assert.equal((await within(obs.next())).value, 'node-b');
    assert.equal(await a.leader(), 'node-b');
  });

  it("hands over when the leader's session is killed, and tells the old leader", async () => {
    const a = candidate();
    const b = candidate();
    const la = await a.campaign('node-a', signal());
    held.push(la);
    const pb = b.campaign('node-b', signal());
    // kill the session: revoke its lease from outside, as etcd does when it expires
    await etcd.client().leaseClient.leaseRevoke({ ID: la.leaseId });
    await within(aborted(la.signal));
    assert.match(la.reason ?? '', /lease/);
    const lb = await within(pb);
    held.push(lb);
    assert.equal(await a.leader(), 'node-b');
  });

  it('a leader cut off from etcd stops leading before another candidate is elected', async () => {
    let proxy: TcpProxy | undefined;
    try {
      proxy = await startTcpProxy(Number(new URL(etcd.clientUrl).port));
      const a = candidate(proxy.url);
      const b = candidate();
      const la = await a.campaign('node-a', signal());
      let lostAt = 0;
      const lost = aborted(la.signal).then(() => (lostAt = performance.now()));
      let wonAt = 0;
      const pb = b.campaign('node-b', signal()).then((l) => {
        wonAt = performance.now();
        held.push(l);
        return l;
      });
      proxy.cut();
      await within(lost);
      assert.match(la.reason ?? '', /out of reach|lease/);
      await within(pb);
      assert.ok(lostAt > 0 && wonAt > lostAt, 'the old leader let go before the new one took over');
    } finally {
      await proxy?.close();
    }
  });

  it('withdraws a candidacy when its signal aborts', async () => {
    const a = candidate();
    const b = candidate();
    const la = await a.campaign('node-a', signal());
    held.push(la);
    const ctl = new AbortController();
    const pb = b.campaign('node-b', ctl.signal);
    ctl.abort();
    await assert.rejects(pb, (e) => isShoalError(e, 'CANCELLED'));
    await la.resign();
    assert.equal(await a.leader(), undefined, 'the withdrawn candidate did not take over');
  });
});
