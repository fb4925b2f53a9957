import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { inDependencyOrder, withDependencies, parseDependsLabel, serviceGroups } from '../../../cli/compose';

const svc = (name: string, ...deps: string[]) => ({ name, dependsOn: deps.map((service) => ({ service })) });
// web -> api -> db, web -> cache; worker -> db
const services = [svc('api', 'db'), svc('cache'), svc('db'), svc('web', 'api', 'cache'), svc('worker', 'db')];

/** Record start/end events; each job yields a few times so independent jobs interleave. */
async function trace(reverse: boolean, fail?: string) {
  const events: string[] = [];
  const err = await inDependencyOrder(
    services,
    async (s) => {
      events.push(`start ${s.name}`);
      await tick();
      await tick();
      if (s.name === fail) throw new Error(`${s.name} failed`);
      events.push(`end ${s.name}`);
    },
    { reverse },
  ).catch((e: Error) => e);
  return { events, err };
}

const before = (events: string[], a: string, b: string) => events.indexOf(a) >= 0 && events.indexOf(b) >= 0 && events.indexOf(a) < events.indexOf(b);

describe('compose-cli: dependency order', () => {
  it('adds what the selected services depend on, transitively, and refuses unknown names', () => {
    assert.deepEqual(withDependencies(services, ['web']).map((s) => s.name), ['api', 'cache', 'db', 'web']);
    assert.deepEqual(withDependencies(services, []).length, 5);
    assert.throws(() => withDependencies(services, ['nope']), /no such service: nope/);
  });

  it('starts a service only after everything it depends on has finished', async () => {
    const { events, err } = await trace(false);
    assert.equal(err, undefined);
    for (const [dep, s] of [['db', 'api'], ['api', 'web'], ['cache', 'web'], ['db', 'worker']]) assert.ok(before(events, `end ${dep}`, `start ${s}`), `${dep} before ${s}: ${events}`);
    // Independent services run side by side: cache starts before db ends.
    assert.ok(before(events, 'start cache', 'end db'), events.join(', '));
  });

  it('in reverse, stops dependents first', async () => {
    const { events } = await trace(true);
    for (const [s, dep] of [['web', 'api'], ['api', 'db'], ['worker', 'db'], ['web', 'cache']]) assert.ok(before(events, `end ${s}`, `start ${dep}`), `${s} before ${dep}: ${events}`);
  });

  it('a failure skips what depends on it and lets the rest finish', async () => {
    const { events, err } = await trace(false, 'api');
    assert.match(String(err), /api failed/);
    assert.ok(!events.includes('start web'));
    assert.ok(events.includes('end cache') && events.includes('end worker'));
  });

  it('reads the order back from the depends_on label on containers', () => {
    assert.deepEqual(parseDependsLabel('db:service_healthy:false,cache:service_started:false'), ['db', 'cache']);
    assert.deepEqual(parseDependsLabel(''), []);
    const summary = (service: string, deps: string) => ({ Id: service, Labels: { 'com.docker.compose.depends_on': deps } });
    const groups = serviceGroups([
      { id: 'a', name: 'p-web-1', service: 'web', number: 1, hash: '', running: true, summary: summary('web', 'db:service_started:false') },
      { id: 'b', name: 'p-web-2', service: 'web', number: 2, hash: '', running: true, summary: summary('web', 'db:service_started:false') },
      { id: 'c', name: 'p-db-1', service: 'db', number: 1, hash: '', running: true, summary: summary('db', '') },
    ]);
    assert.deepEqual(groups.map((g) => [g.name, g.dependsOn.map((d) => d.service), g.containers.length]), [['web', ['db'], 2], ['db', [], 1]]);
  });
});
