// /secrets and (through the same routes, see configs.ts) /configs: create, list, inspect,
// update (labels only) and remove, as dockerd serves them from swarmkit. A secret's data is
// sealed with the cluster data key before it is written and never returned; removal is
// refused while a service refers to the object, naming the services.
import type { Router } from '../../shared/api';
import { invalid, isShoalError, notFound, ShoalError } from '../../shared/errors';
import type { Service } from '../../shared/swarm';
import {
  newSecret,
  payloadJson,
  requireDataKey,
  sameData,
  validatePayloadSpec,
  type DataKey,
  type PayloadNoun,
  type StoredPayload,
} from '../secrets';
import type { Kind } from '../store';
import { versionOf } from '../store/types';
import type { ControlContext } from './context';
import { anyOf, anyPrefix, checkFilterKeys, labelMap, matchLabels, type Filters } from './filters';
import { managerOnly, ok, versionParam } from './http';
import { resolveRef } from './lookup';

const PAYLOAD_FILTERS = ['id', 'label', 'name', 'names'];

/** What differs between secrets and configs. */
export interface PayloadKind {
  noun: PayloadNoun;
  kind: Kind & ('secrets' | 'configs');
  /** The object to store for a validated spec (a secret is sealed with the key). */
  create(spec: ReturnType<typeof validatePayloadSpec>, id: string, now: Date, key: () => Promise<DataKey>): Promise<StoredPayload>;
  /** The IDs a service's spec refers to. */
  refs(s: Service): string[];
}

export const SECRETS: PayloadKind = {
  noun: 'secret',
  kind: 'secrets',
  create: async (spec, id, now, key) => newSecret(spec, id, now, await key()),
  refs: (s) => (s.Spec.TaskTemplate?.ContainerSpec?.Secrets ?? []).map((r) => r.SecretID ?? ''),
};

/** GET /secrets and /configs filters: id and name prefixes, exact names, labels. */
export function payloadFilter(filters: Filters): (o: StoredPayload) => boolean {
  checkFilterKeys(filters, PAYLOAD_FILTERS);
  const ids = filters.get('id');
  const prefixes = filters.get('name');
  const names = filters.get('names');
  const labels = labelMap(filters.get('label'));
  // swarmkit: an object matching any of the name, names or id filters is in (they are alternatives).
  const byName = (o: StoredPayload) => (!ids?.length && !prefixes?.length && !names?.length) || (!!prefixes?.length && anyPrefix(o.Spec.Name, prefixes)) || (!!names?.length && anyOf(o.Spec.Name, names)) || (!!ids?.length && anyPrefix(o.ID, ids));
  return (o) => byName(o) && matchLabels(o.Spec.Labels, labels);
}

/** "secret 'x' is in use by the following service: web" (swarmkit's refusal), or undefined. */
export function inUseMessage(kind: PayloadKind, o: StoredPayload, services: readonly Service[]): string | undefined {
  const users = services.filter((s) => kind.refs(s).includes(o.ID)).map((s) => s.Spec.Name ?? s.ID);
  if (!users.length) return undefined;
  return `${kind.noun} '${o.Spec.Name}' is in use by the following ${users.length === 1 ? 'service' : 'services'}: ${users.join(', ')}`;
}

/** The object by ID, exact name or unique ID prefix. */
export function findPayload(c: ControlContext, kind: PayloadKind, ref: string): Promise<StoredPayload> {
  return resolveRef<StoredPayload>(c.store, kind.kind, ref, kind.noun, () => (o) => [o.Spec.Name]);
}

/** The data key of the cluster this manager serves. */
async function clusterKey(c: ControlContext): Promise<DataKey> {
  return requireDataKey(c.dataKey?.());
}

export function registerPayloadRoutes(router: Router, c: ControlContext, kind: PayloadKind): void {
  const r = managerOnly(router, c);
  const base = `/${kind.kind}`;
  const emit = (action: string, o: StoredPayload) => c.events?.publish(kind.noun, action, o.ID, { name: o.Spec.Name }, 'swarm');

  r.get(base, async (ctx) => {
    const match = payloadFilter(ctx.query.filters());
    const { items } = await c.store.list<StoredPayload>(kind.kind);
    ctx.json200(items.filter(match).map(payloadJson));
  });

  r.post(`${base}/create`, async (ctx) => {
    const spec = validatePayloadSpec(kind.noun, await ctx.json<unknown>());
    const obj = await kind.create(spec, c.newId(), c.now(), () => clusterKey(c));
    let created: StoredPayload;
    try {
      created = await c.store.create<StoredPayload>(kind.kind, obj);
    } catch (e) {
      if (isShoalError(e, 'ALREADY_EXISTS')) throw new ShoalError('ALREADY_EXISTS', `${kind.noun} ${spec.Name} already exists`);
      throw e;
    }
    emit('create', created);
    ctx.send(201, { ID: created.ID });
  });

  r.get(`${base}/:id`, async (ctx) => {
    ctx.json200(payloadJson(await findPayload(c, kind, ctx.params.id)));
  });

  r.post(`${base}/:id/update`, async (ctx) => {
    const version = versionParam(ctx, kind.noun);
    const spec = validatePayloadSpec(kind.noun, await ctx.json<unknown>(), { update: true });
    const current = await findPayload(c, kind, ctx.params.id);
    const key = current.Sealed ? await clusterKey(c) : undefined;
    if (spec.Name !== current.Spec.Name || (spec.Data && !sameData(current, spec.Data, key))) throw invalid('only updates to Labels are allowed');
    let updated: StoredPayload;
    try {
      updated = await c.store.update<StoredPayload>(kind.kind, { ...current, Spec: { ...current.Spec, Labels: spec.Labels }, UpdatedAt: c.now().toISOString(), Version: { Index: version } });
    } catch (e) {
      if (isShoalError(e, 'NOT_FOUND')) throw notFound(`${kind.noun} ${current.ID} not found`);
      throw e;
    }
    emit('update', updated);
    ok(ctx);
  });

  r.delete(`${base}/:id`, async (ctx) => {
    const o = await findPayload(c, kind, ctx.params.id);
    const busy = inUseMessage(kind, o, (await c.store.list<Service>('services')).items);
    if (busy) throw invalid(busy);
    try {
      // At the version checked: an update meanwhile makes this fail rather than go unseen.
      await c.store.delete(kind.kind, o.ID, versionOf(o));
    } catch (e) {
      if (isShoalError(e, 'NOT_FOUND')) throw notFound(`${kind.noun} ${ctx.params.id} not found`);
      throw e;
    }
    emit('remove', o);
    ctx.noContent();
  });
}

export function registerSecretRoutes(router: Router, c: ControlContext): void {
  registerPayloadRoutes(router, c, SECRETS);
}
