// The /swarm endpoints of the Docker API: init, join, leave, inspect, update, unlock and the unlock key.
import type { Router } from '../../shared/api';
import { invalid } from '../../shared/errors';
import type { SwarmSpec } from '../../shared/swarm';
import type { Membership, InitRequest, JoinRequest } from './membership';

// The docker CLI also sends AutoLockManagers and Availability (Go's request types have them).
const INIT_FIELDS = new Set(['ListenAddr', 'AdvertiseAddr', 'DataPathAddr', 'DataPathPort', 'DefaultAddrPool', 'ForceNewCluster', 'SubnetSize', 'Spec', 'AutoLockManagers', 'Availability']);
const JOIN_FIELDS = new Set(['ListenAddr', 'AdvertiseAddr', 'DataPathAddr', 'RemoteAddrs', 'JoinToken', 'Availability']);
const UNLOCK_FIELDS = new Set(['UnlockKey']);

function checkFields(what: string, body: unknown, known: Set<string>): void {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid(`${what}: the body must be a JSON object`);
  const unknown = Object.keys(body).filter((k) => !known.has(k));
  if (unknown.length) throw invalid(`${what}: unknown field(s) ${unknown.join(', ')}`);
}

export function registerSwarmRoutes(router: Router, m: Membership): void {
  router.post('/swarm/init', async (ctx) => {
    const body = await ctx.json<InitRequest>();
    checkFields('swarm init', body, INIT_FIELDS);
    // The node ID as a JSON string (send() would pass a bare string through as text).
    ctx.send(200, JSON.stringify(await m.init(body)), { 'Content-Type': 'application/json' });
  });

  router.post('/swarm/join', async (ctx) => {
    const body = await ctx.json<JoinRequest>();
    checkFields('swarm join', body, JOIN_FIELDS);
    await m.join(body);
    ctx.send(200);
  });

  router.post('/swarm/leave', async (ctx) => {
    await m.leave(ctx.query.bool('force'));
    ctx.send(200);
  });

  router.get('/swarm', async (ctx) => {
    ctx.json200(await m.inspect());
  });

  router.post('/swarm/update', async (ctx) => {
    const spec = await ctx.json<SwarmSpec>();
    await m.update(ctx.query.int('version'), spec, { worker: ctx.query.bool('rotateWorkerToken'), manager: ctx.query.bool('rotateManagerToken'), unlockKey: ctx.query.bool('rotateManagerUnlockKey') });
    ctx.send(200);
  });

  router.get('/swarm/unlockkey', async (ctx) => {
    ctx.json200({ UnlockKey: await m.unlockKey() });
  });

  router.post('/swarm/unlock', async (ctx) => {
    const body = await ctx.json<{ UnlockKey?: unknown }>();
    checkFields('swarm unlock', body, UNLOCK_FIELDS);
    await m.unlock(body.UnlockKey);
    ctx.send(200);
  });
}
