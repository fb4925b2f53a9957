import assert from 'node:assert/strict';
import { buildServiceSpec } from '../../../cli/opts/service/create';
import { updateServiceSpec } from '../../../cli/opts/service/update';
import { parseFileRef, resolveFileRefs, type NamedObject } from '../../../cli/opts/service/secrets';
import type { ServiceSpec } from '../../../shared/swarm/types';

const deps = { readFile: () => Buffer.alloc(0), lookupEnv: () => undefined };
const list = (objs: NamedObject[]) => async (names: string[]) => objs.filter((o) => names.includes(o.Spec!.Name!));

describe('service --secret / --config flags (docker\'s syntax)', () => {
  it('a bare name mounts under its own name, 0444, root', () => {
    assert.deepEqual(parseFileRef('db_pass', 'secret', '--secret'), { name: 'db_pass', file: { Name: 'db_pass', UID: '0', GID: '0', Mode: 0o444 } });
  });
  it('the long form: source/src, target, uid, gid, mode (octal with a leading 0, or decimal)', () => {
    assert.deepEqual(parseFileRef('source=db,target=/etc/db.pw,uid=1000,gid=1001,mode=0400', 'secret', '--secret'), { name: 'db', file: { Name: '/etc/db.pw', UID: '1000', GID: '1001', Mode: 0o400 } });
    assert.deepEqual(parseFileRef('src=c,mode=420', 'config', '--config').file, { Name: 'c', UID: '0', GID: '0', Mode: 420 });
    assert.equal(parseFileRef('"source=a,b",target=t', 'config', '--config').name, 'a,b');
  });
  it('refuses what docker refuses, naming the flag', () => {
    assert.throws(() => parseFileRef('target=/x', 'secret', '--secret'), /invalid argument "target=\/x" for "--secret" flag: source is required/);
    assert.throws(() => parseFileRef('source=a,owner=1', 'secret', '--secret'), /invalid field in secret request: owner/);
    assert.throws(() => parseFileRef('source=a,target', 'config', '--config'), /invalid field 'target' must be a key=value pair/);
    assert.throws(() => parseFileRef('source=a,mode=rw', 'secret', '--secret'), /invalid mode specified/);
  });
  it('names become IDs with one list; a missing name or a shared target is an error', async () => {
    const objs = [{ ID: 'S1', Spec: { Name: 'a' } }];
    const [r] = await resolveFileRefs('secret', [parseFileRef('a', 'secret', '--secret')], list(objs));
    assert.equal(r.id, 'S1');
    await assert.rejects(resolveFileRefs('secret', [parseFileRef('b', 'secret', '--secret')], list(objs)), /^OptionError: secret not found: b$/);
    await assert.rejects(resolveFileRefs('config', [parseFileRef('a', 'config', '--config'), parseFileRef('source=a,target=a', 'config', '--config')], list(objs)), /duplicate config target for a not allowed/);
  });
  it('service create puts the references in the container spec; update removes by name then adds', async () => {
    const spec = buildServiceSpec({ secret: ['a'], config: ['source=c,target=/etc/c'] }, 'busybox', [], deps);
    const cs = spec.TaskTemplate!.ContainerSpec!;
    assert.deepEqual(cs.Secrets, [{ File: { Name: 'a', UID: '0', GID: '0', Mode: 0o444 }, SecretName: 'a' }]);
    assert.deepEqual(cs.Configs, [{ File: { Name: '/etc/c', UID: '0', GID: '0', Mode: 0o444 }, ConfigName: 'c' }]);
    const current: ServiceSpec = { ...spec, TaskTemplate: { ContainerSpec: { ...cs, Secrets: [{ ...cs.Secrets![0], SecretID: 'S1' }] } } };
    const resolveFileRefs = async (_k: string, refs: Array<{ name: string }>) => refs.map((r) => ({ ...r, id: `id-${r.name}` }));
    const next = await updateServiceSpec(current, { secretRm: ['a'], secretAdd: ['source=b,target=bee'], configRm: ['c'] }, { ...deps, resolveNetwork: async (n) => n, resolveFileRefs: resolveFileRefs as never });
    assert.deepEqual(next.TaskTemplate!.ContainerSpec!.Secrets, [{ File: { Name: 'bee', UID: '0', GID: '0', Mode: 0o444 }, SecretID: 'id-b', SecretName: 'b' }]);
    assert.equal(next.TaskTemplate!.ContainerSpec!.Configs, undefined);
  });
});
