// /services: create, list (with ?status=true counts), inspect, update (with rollback) and remove.
// Every write is one store operation carrying the version the client read; a spec that fails
// validation or refers to something missing is refused before anything is written.
import type { ApiContext, Router } from '../../shared/api';
import { conflict, invalid, isShoalError, notFound } from '../../shared/errors';
import { randomName } from '../../shared/ids';
import { serviceModeKind, type Node, type Service, type ServiceSpec, type Task } from '../../shared/swarm';
import { newService, rollbackService, updateService, validateServiceSpec } from '../spec';
import type { ControlContext } from './context';
import { anyOf, anyPrefix, checkFilterKeys, labelMap, matchLabels, type Filters } from './filters';
import { managerOnly, ok, versionParam } from './http';
import { resolveRef, type Namer } from './lookup';
import { checkPortConflicts, checkSecretsAndConfigs, resolveNetworks } from './references';
import { serviceStatus } from './status';
import { jsonEqual } from '../orchestrator/plan';

const SERVICE_FILTERS = ['id', 'label', 'mode', 'name', 'runtime'];

export const serviceNamer: Namer<Service> = (s) => [s.Spec.Name];

/** GET /services filters as a predicate (name and id match as prefixes, mode exactly). */
export function serviceFilter(filters: Filters): (s: Service) => boolean {
  checkFilterKeys(filters, SERVICE_FILTERS);
  const names = filters.get('name');
  const ids = filters.get('id');
  const labels = labelMap(filters.get('label'));
  const modes = filters.get('mode');
  const runtimes = filters.get('runtime')?.map((r) => r || 'container');
  return (s) =>
    anyPrefix(s.Spec.Name, names) &&
    anyPrefix(s.ID, ids) &&
    matchLabels(s.Spec.Labels, labels) &&
    anyOf(serviceModeKind(s.Spec.Mode), modes) &&
    anyOf(s.Spec.TaskTemplate?.Runtime || 'container', runtimes);
}

/** A service by ID, name or unique ID prefix. */
export function findService(c: ControlContext, ref: string): Promise<Service> {
  return resolveRef<Service>(c.store, 'services', ref, 'service', () => serviceNamer);
}

/** The spec with Docker's defaults filled in (objects written before a default existed lack it). */
function withDefaults(spec: ServiceSpec): ServiceSpec {
  try {
    return validateServiceSpec(structuredClone(spec));
  } catch {
    return spec;
  }
}

/** ?rollback=: "" or "none" (an ordinary update) or "previous". */
function rollbackParam(ctx: ApiContext): boolean {
  const v = ctx.query.str('rollback') ?? '';
  if (v === '' || v === 'none') return false;
  if (v === 'previous') return true;
  throw invalid(`unrecognized rollback option ${v}`);
}

export function registerServiceRoutes(router: Router, c: ControlContext): void {
  const r = managerOnly(router, c);
  const emit = (action: string, id: string, attrs: Record<string, string>) => c.events?.publish('service', action, id, attrs, 'swarm');

  r.get('/services', async (ctx) => {
    const match = serviceFilter(ctx.query.filters());
    const services = (await c.store.list<Service>('services')).items.filter(match);
    if (!ctx.query.bool('status') || services.length === 0) return ctx.json200(services);
    const [tasks, nodes] = await Promise.all([c.store.list<Task>('tasks'), c.store.list<Node>('nodes')]);
    const byService = new Map<string, Task[]>();
    for (const t of tasks.items) byService.set(t.ServiceID, [...(byService.get(t.ServiceID) ?? []), t]);
    ctx.json200(services.map((s) => ({ ...s, ServiceStatus: serviceStatus(s, byService.get(s.ID) ?? [], nodes.items) })));
  });

  r.get('/services/:id', async (ctx) => {
    const s = await findService(c, ctx.params.id);
    ctx.json200(ctx.query.bool('insertDefaults') ? { ...s, Spec: withDefaults(s.Spec) } : s);
  });

  // X-Registry-Auth is accepted and not kept: workers pull with their own credentials.
  r.post('/services/create', async (ctx) => {
    const body = await ctx.json<unknown>();
    let generated = false;
    const spec = validateServiceSpec(body, {
      newName: () => {
        generated = true;
        return randomName();
      },
    });
    await checkReferences(c, spec);
    checkPortConflicts(spec, (await c.store.list<Service>('services')).items);
    // A generated name that happens to be taken is drawn again; a chosen one is the user's conflict.
    for (let attempt = 0; ; attempt++) {
      try {
        const created = await c.store.create<Service>('services', newService(spec, c.newId(), c.now().getTime()));
        emit('create', created.ID, { name: spec.Name! });
        ctx.send(201, { ID: created.ID, Warnings: null });
        return;
      } catch (e) {
        if (!isShoalError(e, 'ALREADY_EXISTS')) throw e;
        if (!generated || attempt >= 5) throw conflict(`name conflicts with an existing object: service ${spec.Name} already exists`);
        spec.Name = randomName();
      }
    }
  });

  r.post('/services/:id/update', async (ctx) => {
    const version = versionParam(ctx, 'service');
    const rollback = rollbackParam(ctx);
    const authFrom = ctx.query.str('registryAuthFrom') ?? '';
    if (!['', 'spec', 'previous-spec'].includes(authFrom)) throw invalid(`unsupported registryAuthFrom value '${authFrom}' (expected spec or previous-spec)`);
    // The body is read even for a rollback, which ignores it (dockerd parses it first too).
    const body = await ctx.json<unknown>();
    const current = await findService(c, ctx.params.id);
    const now = c.now().getTime();
    let next: Service;
    if (rollback) {
      if (!current.PreviousSpec) throw invalid(`service ${current.ID} does not have a previous spec`);
      // A manual rollback swaps the specs, so a second one goes forward again (as in Docker).
      next = { ...rollbackService(current, now), PreviousSpec: current.Spec };
    } else {
      if (authFrom === 'previous-spec' && !ctx.header('x-registry-auth') && !current.PreviousSpec) throw invalid('service does not have a previous spec');
      const spec = validateServiceSpec(body);
      await checkReferences(c, spec);
      if (!jsonEqual(spec.EndpointSpec, current.Spec.EndpointSpec)) checkPortConflicts(spec, (await c.store.list<Service>('services')).items, current.ID);
      next = updateService(current, spec, now);
    }
    let updated: Service;
    try {
      updated = await c.store.update<Service>('services', { ...next, Version: { Index: version } });
    } catch (e) {
      if (isShoalError(e, 'NOT_FOUND')) throw notFound(`service ${current.ID} not found`);
      throw e;
    }
    emit('update', updated.ID, serviceChanges(current, updated));
    // Warnings is left out when there are none, as dockerd's omitempty does.
    ctx.json200({});
  });

  r.delete('/services/:id', async (ctx) => {
    const s = await findService(c, ctx.params.id);
    try {
      await c.store.delete('services', s.ID);
    } catch (e) {
      if (isShoalError(e, 'NOT_FOUND')) throw notFound(`service ${ctx.params.id} not found`);
      throw e;
    }
    emit('remove', s.ID, { name: s.Spec.Name ?? '' });
    ok(ctx);
  });
}

async function checkReferences(c: ControlContext, spec: ServiceSpec): Promise<void> {
  await resolveNetworks(c.store, spec);
  await checkSecretsAndConfigs(c.store, spec);
}

/** dockerd's attributes of a service update event: the name, and image/replicas/update state changes. */
export function serviceChanges(before: Service, after: Service): Record<string, string> {
  const attrs: Record<string, string> = { name: after.Spec.Name ?? '' };
  const i0 = before.Spec.TaskTemplate?.ContainerSpec?.Image;
  const i1 = after.Spec.TaskTemplate?.ContainerSpec?.Image;
  if (i0 !== undefined && i1 !== undefined && i0 !== i1) Object.assign(attrs, { 'image.old': i0, 'image.new': i1 });
  const r0 = before.Spec.Mode?.Replicated?.Replicas;
  const r1 = after.Spec.Mode?.Replicated?.Replicas;
  if (r0 !== undefined && r1 !== undefined && r0 !== r1) Object.assign(attrs, { 'replicas.old': String(r0), 'replicas.new': String(r1) });
  const u0 = before.UpdateStatus?.State;
  const u1 = after.UpdateStatus?.State;
  if (u1 !== undefined && u0 !== u1) {
    if (u0 !== undefined) attrs['updatestate.old'] = u0;
    attrs['updatestate.new'] = u1;
  }
  return attrs;
}
