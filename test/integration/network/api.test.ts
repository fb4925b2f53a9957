import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ApiServer, Router } from '../../../shared/api';
import { ApiError, EngineClient } from '../../../shared/client';
import { notFound } from '../../../shared/errors';
import { logger, silenceLogging } from '../../../shared/log';
import { run } from '../../../shared/exec';
import type { NetworkSetupResult } from '../../../worker/engine/contracts';
import { registerSystemRoutes } from '../../../worker/api/system';
import { registerNetworkRoutes } from '../../../worker/api/networks';
import { registerVolumeRoutes } from '../../../worker/api/volumes';
import { VolumeStore } from '../../../worker/engine/volumes';
import type { ContainerLookup, NetworkManager } from '../../../worker/network';
import { cid, inNs, linkExists, makeEnv, open, randomSubnet24, request, type NetEnv } from './env';

function status(code: number, re?: RegExp) {
  return (e: unknown) => e instanceof ApiError && e.status === code && (!re || re.test(e.message));
}

describe('network and volume routes (HTTP, and the docker CLI)', function () {
  this.timeout(60_000);
  let env: NetEnv;
  let m: NetworkManager;
  let server: ApiServer;
  let client: EngineClient;
  let host: string;
  const running = new Map<string, { id: string; name: string; running: boolean }>();
  const changed: Array<[string, NetworkSetupResult]> = [];

  const docker = async (...args: string[]) => (await run('docker', ['-H', host, ...args], { env: { ...process.env, DOCKER_CONFIG: join(env.base, 'docker-config') } })).stdout.trim();

  before(async () => {
    silenceLogging();
    env = await makeEnv();
    m = await open(env);
    const volumes = await VolumeStore.open({ root: join(env.config.dataRoot, 'volumes'), events: env.events });
    const lookup: ContainerLookup = {
      async resolve(ref) {
        const c = [...running.values()].find((x) => x.id === ref || x.name === ref || x.id.startsWith(ref));
        if (!c) throw notFound(`No such container: ${ref}`);
        return c;
      },
    };
    const router = new Router();
    registerSystemRoutes(router, { config: env.config, events: env.events, info: async () => ({}) });
    registerNetworkRoutes(router, { networks: m, containerLookup: lookup, onEndpointsChanged: async (id, r) => void changed.push([id, r]) });
    registerVolumeRoutes(router, { volumes });
    server = new ApiServer(router, logger('test'));
    const sock = join(env.base, 'api.sock');
    await server.listen([{ kind: 'unix', address: sock }]);
    host = `unix://${sock}`;
    client = new EngineClient(host);
  });

  after(async () => {
    client?.close();
    await server?.close();
    await m?.purge(true);
    await env?.cleanup();
  });

  it('creates, lists, inspects and removes networks over HTTP with Docker status codes', async () => {
    const s = randomSubnet24();
    const created = await client.post<{ Id: string; Warning: string }>('/networks/create', { body: { Name: `h-${env.tag}`, CheckDuplicate: true, Driver: 'bridge', IPAM: { Driver: 'default', Config: [{ Subnet: s.cidr, IPRange: `${s.prefix}.128/25` }] }, Labels: { a: 'b' } } });
    assert.match(created.Id, /^[0-9a-f]{64}$/);
    assert.equal(created.Warning, '');
    await assert.rejects(client.post('/networks/create', { body: { Name: `h-${env.tag}` } }), status(409, /already exists/));
    await assert.rejects(client.post('/networks/create', { body: { Name: 'bridge' } }), status(403));
    await assert.rejects(client.post('/networks/create', { body: {} }), status(400, /name is required/));
    await assert.rejects(client.post('/networks/create', { body: { Name: `o-${env.tag}`, IPAM: { Config: [{ Subnet: s.cidr }] } } }), status(403, /overlaps/));
    const list = await client.get<Array<{ Name: string; Id: string }>>('/networks', { query: { filters: JSON.stringify({ label: ['a=b'] }) } });
    assert.deepEqual(list.map((n) => n.Id), [created.Id]);
    const n = await client.get<{ IPAM: { Config: Array<Record<string, string>> } }>(`/networks/${created.Id.slice(0, 12)}`);
    assert.deepEqual(n.IPAM.Config, [{ Subnet: s.cidr, Gateway: `${s.prefix}.1`, IPRange: `${s.prefix}.128/25` }]);
    await assert.rejects(client.get('/networks/nope-nope'), status(404, /network nope-nope not found/));
    await assert.rejects(client.get('/networks', { query: { filters: JSON.stringify({ type: ['weird'] }) } }), status(400));
    await client.delete(`/networks/h-${env.tag}`);
    await assert.rejects(client.delete(`/networks/h-${env.tag}`), status(404));
    await assert.rejects(client.delete('/networks/none'), status(403, /pre-defined/));
  });

  it('connects and disconnects a running container by name, telling the containers module', async () => {
    const s = randomSubnet24();
    const { Id } = await client.post<{ Id: string }>('/networks/create', { body: { Name: `c-${env.tag}`, IPAM: { Config: [{ Subnet: s.cidr }] } } });
    const id = cid();
    const r = await m.setup(request(id, { name: 'worker' }));
    running.set(id, { id, name: 'worker', running: true });
    try {
      await client.post(`/networks/${Id}/connect`, { body: { Container: 'worker', EndpointConfig: { Aliases: ['w1'], IPAMConfig: { IPv4Address: `${s.prefix}.77` } } } });
      assert.match(await inNs(r.netnsPath!, ['ip', '-br', 'addr', 'show', 'dev', 'eth1']), new RegExp(`${s.prefix}\\.77/24`));
      const last = changed[changed.length - 1];
      assert.equal(last[0], id);
      assert.equal(last[1].networks[`c-${env.tag}`].IPAddress, `${s.prefix}.77`);
      const inspect = await client.get<{ Containers: Record<string, { Name: string; IPv4Address: string }> }>(`/networks/${Id}`);
      assert.deepEqual([inspect.Containers[id].Name, inspect.Containers[id].IPv4Address], ['worker', `${s.prefix}.77/24`]);
      await assert.rejects(client.delete(`/networks/${Id}`), status(403, /has active endpoints/));
      await assert.rejects(client.post(`/networks/${Id}/connect`, { body: { Container: 'ghost' } }), status(404, /No such container/));
      await assert.rejects(client.post(`/networks/${Id}/connect`, { body: { Container: 'worker' } }), status(403, /already exists/));
      await client.post(`/networks/${Id}/disconnect`, { body: { Container: 'worker' } });
      assert.equal((await inNs(r.netnsPath!, ['ip', '-br', 'link'])).includes('eth1'), false);
      await assert.rejects(client.post(`/networks/${Id}/disconnect`, { body: { Container: 'worker' } }), status(403, /not connected/));
      await client.post(`/networks/${Id}/disconnect`, { body: { Container: 'ghost', Force: true } });
    } finally {
      running.delete(id);
      await m.teardown(id);
    }
    const pruned = await client.post<{ NetworksDeleted: string[] }>('/networks/prune');
    assert.deepEqual(pruned.NetworksDeleted, [`c-${env.tag}`]);
  });

  it('works with the docker CLI: network create/ls/inspect/rm/prune and volume create/ls/inspect/rm', async () => {
    const s = randomSubnet24();
    const name = `cli-${env.tag}`;
    const id = await docker('network', 'create', '--subnet', s.cidr, '--gateway', `${s.prefix}.254`, '--label', 'k=v', '--internal', name);
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.ok(await linkExists(`br-${id.slice(0, 12)}`));
    const ls = await docker('network', 'ls', '--format', '{{.Name}} {{.Driver}} {{.Scope}}');
    assert.ok(ls.split('\n').includes(`${name} bridge local`), ls);
    assert.ok(ls.split('\n').includes('bridge bridge local'));
    assert.ok(ls.split('\n').includes('host host local'));
    assert.ok(ls.split('\n').includes('none null local'));
    assert.equal(await docker('network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}} {{.Internal}} {{.Labels.k}}', name), `${s.cidr} ${s.prefix}.254 true v`);
    assert.equal(await docker('network', 'ls', '-q', '--filter', 'label=k=v', '--no-trunc'), id);
    await assert.rejects(docker('network', 'create', name), /already exists/);
    await assert.rejects(docker('network', 'rm', 'bridge'), /pre-defined network and cannot be removed/);
    await docker('network', 'rm', name);
    assert.equal(await linkExists(`br-${id.slice(0, 12)}`), false);
    await docker('network', 'create', `p-${env.tag}`);
    assert.match(await docker('network', 'prune', '-f'), new RegExp(`p-${env.tag}`));

    assert.equal(await docker('volume', 'create', '--label', 'x=y', `v-${env.tag}`), `v-${env.tag}`);
    assert.equal(await docker('volume', 'inspect', '-f', '{{.Driver}} {{.Labels.x}} {{.Mountpoint}}', `v-${env.tag}`), `local y ${join(env.config.dataRoot, 'volumes', `v-${env.tag}`, '_data')}`);
    assert.ok((await docker('volume', 'ls', '-q')).split('\n').includes(`v-${env.tag}`));
    assert.equal(await docker('volume', 'rm', `v-${env.tag}`), `v-${env.tag}`);
    await assert.rejects(docker('volume', 'inspect', `v-${env.tag}`), /no such volume/);
  });
});
