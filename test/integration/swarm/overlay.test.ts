// Overlay networks on the 3-host lab: tasks on different hosts reach each other over VXLAN by
// their task addresses, and leaving the network takes every device and rule away on every host.
import assert from 'node:assert/strict';
import http from 'node:http';
import { startLab, type TestLab } from '../../helpers/lab';
import { eventually, running } from '../../helpers/swarm';
import type { EngineClient } from '../../../shared/client';

interface TaskNet {
  NodeID: string;
  Status: { ContainerStatus?: { ContainerID?: string } };
  NetworksAttachments?: Array<{ Network: { ID: string; Spec: { Name: string } }; Addresses: string[] }>;
}

describe('overlay networks on the 3-host lab (VXLAN, real etcd, NATS, crun)', function () {
  this.timeout(180_000);
  let lab: TestLab;
  let m1: EngineClient;

  before(async () => {
    lab = await startLab({ managers: 1, workers: 2 });
    m1 = lab.host('m1').client;
  });
  after(async () => {
    await lab?.down();
  });

  /** Overlay devices and the lab subnet's NAT rules on a host. */
  const overlayState = async (host: string, subnet: string) => {
    const links = (await lab.exec(host, ['ip', '-o', 'link', 'show'])).stdout.split('\n').filter((l) => / (ov|vx)\d+[:@]/.test(l));
    const rules = (await lab.exec(host, ['nft', 'list', 'ruleset'])).stdout.split('\n').filter((l) => l.includes(subnet));
    return { links, rules };
  };

  it('tasks on three hosts reach each other over TCP by their overlay addresses; leaving removes every link and rule', async () => {
    const made = await lab.docker('m1', ['network', 'create', '-d', 'overlay', 'app']);
    assert.equal(made.code, 0, made.stderr);
    const [net] = await m1.get<Array<{ Id: string; IPAM: { Config: Array<{ Subnet: string }> } }>>('/networks', { query: { filters: JSON.stringify({ name: ['app'] }) } });
    const subnet = net.IPAM.Config[0].Subnet;
    const svc = await lab.docker('m1', ['service', 'create', '--detach', '--name', 'web', '--replicas', '3', '--network', 'app', '--stop-grace-period', '1s', 'busybox', 'sh', '-c', 'echo hello-from-$(hostname) > /tmp/index.html; exec httpd -f -p 80 -h /tmp']);
    assert.equal(svc.code, 0, svc.stderr);
    await running(m1, 'web', 3);

    const tasks = await m1.get<TaskNet[]>('/tasks', { query: { filters: JSON.stringify({ service: ['web'], 'desired-state': ['running'] }) } });
    const nodes = await m1.get<Array<{ ID: string; Description: { Hostname: string } }>>('/nodes');
    const ends = tasks.map((t) => ({
      host: nodes.find((n) => n.ID === t.NodeID)!.Description.Hostname,
      ip: t.NetworksAttachments!.find((a) => a.Network.ID === net.Id)!.Addresses[0].split('/')[0],
      container: t.Status.ContainerStatus!.ContainerID!,
    }));
    assert.deepEqual(ends.map((e) => e.host).sort(), ['m1', 'w1', 'w2'], 'one task per host');
    for (const e of ends) {
      const mtu = await lab.docker(e.host, ['exec', e.container, 'cat', '/sys/class/net/eth0/mtu']);
      assert.equal(mtu.stdout.trim(), '1450', 'the VXLAN header is taken off the MTU');
    }
    const hostname = async (e: (typeof ends)[number]) => (await lab.docker(e.host, ['exec', e.container, 'hostname'])).stdout.trim();
    for (const src of ends) {
      for (const dst of ends) {
        if (src === dst) continue;
        // busybox's wget -T crashes; the timeout applet bounds the attempt instead.
        const r = await lab.docker(src.host, ['exec', src.container, 'timeout', '10', 'wget', '-q', '-O', '-', `http://${dst.ip}/index.html`]);
        assert.equal(r.code, 0, `${src.host} -> ${dst.host} (${dst.ip}): ${r.stderr}`);
        assert.equal(r.stdout.trim(), `hello-from-${await hostname(dst)}`);
      }
    }
    // Service discovery on the network, from every node's DNS: the VIP for the service name,
    // the running tasks for tasks.<service>, and a dnsrr service reached by name over TCP.
    const rr = await lab.docker('m1', ['service', 'create', '--detach', '--name', 'api', '--replicas', '2', '--endpoint-mode', 'dnsrr', '--network', 'app', '--stop-grace-period', '1s', 'busybox', 'sh', '-c', 'echo api-$(hostname) > /tmp/index.html; exec httpd -f -p 80 -h /tmp']);
    assert.equal(rr.code, 0, rr.stderr);
    await running(m1, 'api', 2);
    const [webSvc] = await m1.get<Array<{ Endpoint: { VirtualIPs: Array<{ NetworkID: string; Addr: string }> } }>>('/services', { query: { filters: JSON.stringify({ name: ['web'] }) } });
    const vip = webSvc.Endpoint.VirtualIPs.find((v) => v.NetworkID === net.Id)!.Addr.split('/')[0];
    const lookup = async (e: (typeof ends)[number], name: string) => {
      const r = await lab.docker(e.host, ['exec', e.container, 'nslookup', name]);
      // busybox prints the server first, then the answers.
      return [...r.stdout.split(/Name:/).slice(1).join('\n').matchAll(/Address(?: \d+)?:\s+([\d.]+)/g)].map((m) => m[1]).sort();
    };
    for (const e of ends) {
      await eventually(`${e.host} resolves the services`, async () => {
        const [web, tasksWeb, api] = await Promise.all([lookup(e, 'web'), lookup(e, 'tasks.web'), lookup(e, 'api')]);
        return web.join() === vip && tasksWeb.join() === ends.map((x) => x.ip).sort().join() && api.length === 2;
      });
      const r = await lab.docker(e.host, ['exec', e.container, 'timeout', '10', 'wget', '-q', '-O', '-', 'http://api/index.html']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^api-\w+/);
    }
    assert.equal((await lab.docker('m1', ['service', 'rm', 'api'])).code, 0);

    // The VIP: from every host, connections to the service name spread over all three tasks.
    const hostnames = new Set(await Promise.all(ends.map(hostname)));
    for (const e of ends) {
      const r = await lab.docker(e.host, ['exec', e.container, 'sh', '-c', 'for i in $(seq 30); do timeout 5 wget -q -O - http://web/index.html || echo FAILED; done']);
      const answers = r.stdout.trim().split('\n');
      assert.equal(answers.length, 30, r.stderr);
      assert.ok(!answers.includes('FAILED'), `${e.host}: ${answers.filter((a) => a === 'FAILED').length} of 30 failed`);
      const from = new Set(answers.map((a) => a.replace(/^hello-from-/, '')));
      assert.deepEqual([...from].sort(), [...hostnames].sort(), `${e.host} reached every task through the VIP`);
    }

    // kill -9 of w1's shoald, then a start: its containers keep running and the node takes up
    // its overlay again, with no device or rule twice, and traffic flows as before.
    const w1 = ends.find((e) => e.host === 'w1')!;
    await lab.kill('w1');
    await lab.start('w1');
    await eventually('w1 ready again', async () => {
      const nodes = await m1.get<Array<{ Description: { Hostname: string }; Status: { State: string } }>>('/nodes');
      return nodes.find((n) => n.Description.Hostname === 'w1')?.Status.State === 'ready';
    });
    const after = await overlayState('w1', subnet);
    assert.equal(after.links.length, 2, after.links.join('\n'));
    const ruleset = (await lab.exec('w1', ['nft', 'list', 'ruleset'])).stdout;
    assert.equal(ruleset.match(/chain vip_\d/g)?.length, 1, 'one VIP chain');
    await eventually('w1 reaches the others through the VIP again', async () => {
      const r = await lab.docker('w1', ['exec', w1.container, 'sh', '-c', 'for i in $(seq 10); do timeout 5 wget -q -O - http://web/index.html || echo FAILED; done']);
      const answers = r.stdout.trim().split('\n');
      return answers.length === 10 && !answers.includes('FAILED');
    });

    // A task that dies leaves the VIP's backends: every request keeps succeeding, none reaches it.
    const victim = ends.find((e) => e.host === 'w2')!;
    const victimName = await hostname(victim);
    const client = ends.find((e) => e.host === 'm1')!;
    assert.equal((await lab.docker('w2', ['kill', victim.container])).code, 0);
    await eventually('the VIP no longer sends to the killed task', async () => {
      const r = await lab.docker('m1', ['exec', client.container, 'sh', '-c', 'for i in $(seq 15); do timeout 5 wget -q -O - http://web/index.html || echo FAILED; done']);
      const answers = r.stdout.trim().split('\n');
      return answers.length === 15 && !answers.includes('FAILED') && !answers.includes(`hello-from-${victimName}`);
    });

    for (const h of ['m1', 'w1', 'w2']) {
      const s = await overlayState(h, subnet);
      assert.equal(s.links.length, 2, `${h} has the bridge and the vxlan device`);
      assert.ok(s.rules.length > 0, `${h} masquerades the overlay subnet's way out`);
    }

    assert.equal((await lab.docker('m1', ['service', 'rm', 'web'])).code, 0);
    await eventually('the network can go once the tasks are down', async () => (await lab.docker('m1', ['network', 'rm', 'app'])).code === 0);
    for (const h of ['m1', 'w1', 'w2']) {
      await eventually(`${h} left the overlay`, async () => {
        const s = await overlayState(h, subnet);
        return s.links.length === 0 && s.rules.length === 0;
      });
    }
  });
  it('the routing mesh: a published port answers on every host and spreads over the tasks; a taken port is refused; nothing is left', async () => {
    const made = await lab.docker('m1', ['service', 'create', '--detach', '--name', 'pub', '--replicas', '2', '-p', '8080:80', '--stop-grace-period', '1s', 'busybox', 'sh', '-c', 'echo $(hostname) > /tmp/index.html; exec httpd -f -p 80 -h /tmp']);
    assert.equal(made.code, 0, made.stderr);
    await running(m1, 'pub', 2);
    const get = (url: string) =>
      new Promise<string>((resolve) => {
        const req = http.get(url, { timeout: 5000 }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve(res.statusCode === 200 ? body.trim() : `HTTP ${res.statusCode}`));
        });
        req.on('error', (e) => resolve(`error ${e.message}`));
        req.on('timeout', () => req.destroy(new Error('timeout')));
      });
    const names = new Set<string>();
    for (const h of lab.hosts) {
      await eventually(`${h.name}:8080 answers`, async () => /^\w{12}$/.test(await get(`http://${h.address}:8080/index.html`)));
      for (let i = 0; i < 12; i++) {
        const a = await get(`http://${h.address}:8080/index.html`);
        assert.match(a, /^\w{12}$/, `${h.name}:8080 -> ${a}`);
        names.add(a);
      }
    }
    assert.equal(names.size, 2, 'the mesh spreads connections over both tasks');
    const taken = await lab.docker('m1', ['service', 'create', '--detach', '--name', 'late', '-p', '8080:80', 'busybox', 'sleep', '1d']);
    assert.notEqual(taken.code, 0);
    assert.match(taken.stderr, /port '8080' is already in use by service 'pub'/);

    // -p 80: the cluster picks the port, from 30000 up, and every host answers on it.
    const dyn = await lab.docker('m1', ['service', 'create', '--detach', '--name', 'dyn', '-p', '80', '--stop-grace-period', '1s', 'busybox', 'sh', '-c', 'echo $(hostname) > /tmp/index.html; exec httpd -f -p 80 -h /tmp']);
    assert.equal(dyn.code, 0, dyn.stderr);
    await running(m1, 'dyn', 1);
    const ls = await lab.docker('m1', ['service', 'ls', '--filter', 'name=dyn', '--format', '{{.Ports}}']);
    assert.equal(ls.stdout.trim(), '*:30000->80/tcp');
    for (const h of lab.hosts) await eventually(`${h.name}:30000 answers`, async () => /^\w{12}$/.test(await get(`http://${h.address}:30000/index.html`)));
    assert.equal((await lab.docker('m1', ['service', 'rm', 'dyn'])).code, 0);

    assert.equal((await lab.docker('m1', ['service', 'rm', 'pub'])).code, 0);
    for (const h of lab.hosts) {
      await eventually(`${h.name} closed the mesh`, async () => {
        const rules = (await lab.exec(h.name, ['nft', 'list', 'ruleset'])).stdout;
        const links = (await lab.exec(h.name, ['ip', '-o', 'link', 'show'])).stdout.split('\n').filter((l) => / (ov|vx)\d+[:@]/.test(l));
        return !/mesh_|snat to/.test(rules) && links.length === 0;
      });
    }
  });
});
