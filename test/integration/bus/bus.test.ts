import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ALL_EVENTS, Bus, eventSubject, logSubject, serviceLogsSubject } from '../../../shared/bus';
import { isShoalError } from '../../../shared/errors';
import { startTestNats, type TestNats } from '../../helpers/nats';
import { freePort } from '../../helpers/registry';
import { within } from '../../helpers/etcd';

const next = <T>(it: AsyncIterator<T>) => within(it.next());

describe('event and log bus over a real nats-server', function () {
  this.timeout(60_000);
  const token = randomBytes(16).toString('hex');
  let a: TestNats;
  let b: TestNats;
  const buses: Bus[] = [];
  const open = async (url: string, t = token) => {
    const bus = await Bus.connect(url, { token: t, connectTimeoutMs: 5000 });
    buses.push(bus);
    return bus;
  };

  before(async () => {
    a = await startTestNats({ name: 'a', token });
    b = await startTestNats({ name: 'b', token, routes: [a.routeAddr] });
  });
  after(async () => {
    for (const bus of buses) await bus.close();
    await b?.destroy();
    await a?.destroy();
  });

  it('delivers published objects as JSON to a subscriber until its signal aborts', async () => {
    const bus = await open(a.url);
    const ctl = new AbortController();
    const it = bus.subscribe<{ n: number; id: string }>(eventSubject('service'), ctl.signal)[Symbol.asyncIterator]();
    const first = it.next(); // subscribes
    await bus.flush();
    bus.publish(eventSubject('service'), { n: 1, id: 'svc1' });
    bus.publish(eventSubject('node'), { n: 99 }); // another subject
    bus.publish(eventSubject('service'), { n: 2, id: 'svc2' });
    assert.deepEqual((await first).value, { n: 1, id: 'svc1' });
    assert.deepEqual((await next(it)).value, { n: 2, id: 'svc2' });
    ctl.abort();
    assert.equal((await next(it)).done, true);
  });

  it('gives wildcard subscribers the subject of each message', async () => {
    const bus = await open(a.url);
    const ctl = new AbortController();
    const it = bus.messages<{ line: string }>(serviceLogsSubject('svcA'), ctl.signal)[Symbol.asyncIterator]();
    const first = it.next();
    await bus.flush();
    bus.publish(logSubject('svcA', 'task1'), { line: 'hello' });
    bus.publish(logSubject('svcB', 'task9'), { line: 'not mine' });
    bus.publish(logSubject('svcA', 'task2'), { line: 'world' });
    assert.deepEqual((await first).value, { subject: 'shoal.logs.svcA.task1', data: { line: 'hello' } });
    assert.deepEqual((await next(it)).value, { subject: 'shoal.logs.svcA.task2', data: { line: 'world' } });
    ctl.abort();
  });

  it('carries messages between servers joined by routes', async () => {
    const onA = await open(a.url);
    const onB = await open(b.url);
    const ctl = new AbortController();
    const it = onB.subscribe<{ from: string }>(ALL_EVENTS, ctl.signal)[Symbol.asyncIterator]();
    const got = it.next();
    await onB.flush();
    // the route may still be forming: publish until the subscriber on the other server has one
    let n = 0;
    const pub = setInterval(() => onA.publish(eventSubject('task'), { from: `a${n++}` }), 100);
    try {
      const r = await within(got, 30_000);
      assert.match(r.value.from, /^a\d+$/);
    } finally {
      clearInterval(pub);
      ctl.abort();
    }
  });

  it('refuses a client without the token', async () => {
    await assert.rejects(Bus.connect(a.url, { connectTimeoutMs: 2000 }), (e) => isShoalError(e, 'PERMISSION_DENIED'));
    await assert.rejects(Bus.connect(a.url, { token: 'wrong-token-0123456789', connectTimeoutMs: 2000 }), (e) => isShoalError(e, 'PERMISSION_DENIED'));
  });

  it('is UNAVAILABLE when no server answers, and after close', async () => {
    const port = await freePort();
    await assert.rejects(Bus.connect(`nats://127.0.0.1:${port}`, { connectTimeoutMs: 600 }), (e) => isShoalError(e, 'UNAVAILABLE') && /event bus/.test((e as Error).message));
    const bus = await Bus.connect(a.url, { token });
    await bus.close();
    assert.throws(() => bus.publish(eventSubject('node'), {}), (e) => isShoalError(e, 'UNAVAILABLE'));
  });

  it('rejects subjects that are not tokens', () => {
    assert.throws(() => logSubject('svc.x', 't'), (e) => isShoalError(e, 'INVALID_ARGUMENT') && /service ID "svc.x"/.test((e as Error).message));
    assert.throws(() => eventSubject('bogus' as never), (e) => isShoalError(e, 'INVALID_ARGUMENT'));
  });
});
