// Overlay networks on the 3-host lab: tasks on different hosts reach each other over VXLAN by
// their task addresses, and leaving the network takes every device and rule away on every host.
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawn, type ChildProcess } from 'node:child_process';
import { startLab, type TestLab } from '../../helpers/lab';
import { eventually, running } from '../../helpers/swarm';
import type { EngineClient } from '../../../shared/client';

interface TaskNet {
  NodeID: string;
  Status: { ContainerStatus?: { ContainerID?: string } };
  NetworksAttachments?: Array<{ Network: { ID: string; Spec: { Name: string } }; Addresses: string[] }>;
}

/** A UDP server answering each datagram with its name (argv[1]), in whatever network namespace it runs. */
const UDP_ECHO = `const s = require('dgram').createSocket('udp4'); s.on('message', (m, r) => s.send(process.argv[1], r.port, r.address)); s.bind(5353, () => console.log('ready'));`;
/** Sends argv[3] datagrams to argv[1]:argv[2], each from a new socket (a new flow), and prints each answer or TIMEOUT. */
const UDP_CLIENT = `const dgram = require('dgram'); const [host, port, n] = process.argv.slice(1);
(async () => { const out = []; for (let i = 0; i < +n; i++) out.push(await new Promise((res) => { const s = dgram.createSocket('udp4'); const t = setTimeout(() => { s.close(); res('TIMEOUT'); }, 3000); s.on('message', (m) => { clearTimeout(t); s.close(); res(m.toString()); }); s.send('ping', +port, host); })); console.log(out.join('\\n')); })();`;

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

    // The killed task's replacement brings w2 back onto the network (a node with no live
    // container on it leaves it meanwhile).
    await running(m1, 'web', 3);
    for (const h of ['m1', 'w1', 'w2']) {
      const s = await eventually(`${h} is on the network`, async () => {
        const st = await overlayState(h, subnet);
        return st.links.length === 2 ? st : undefined;
      });
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

  it('a plain container joins an attachable network from any host: it reaches a service by name and is reached by its own; its address goes back when it stops', async () => {
    const links = async (h: string) => (await lab.exec(h, ['ip', '-o', 'link', 'show'])).stdout.split('\n').filter((l) => / (ov|vx)\d+[:@]/.test(l));
    const attachments = async () => (await m1.get<Array<TaskNet & { ID: string; ServiceID: string; Spec: { NetworkAttachmentSpec?: { ContainerID?: string }; Networks?: Array<{ Aliases?: string[] }> }; Status: { State: string } }>>('/tasks', { query: { filters: JSON.stringify({ runtime: ['attachment'] }) } }));
    assert.equal((await lab.docker('m1', ['network', 'create', '-d', 'overlay', '--attachable', 'shared'])).code, 0);
    assert.equal((await lab.docker('m1', ['network', 'create', '-d', 'overlay', 'private'])).code, 0);
    const svc = await lab.docker('m1', ['service', 'create', '--detach', '--name', 'api', '--replicas', '2', '--network', 'shared', '--stop-grace-period', '1s', 'busybox', 'sh', '-c', 'echo api > /tmp/index.html; exec httpd -f -p 80 -h /tmp']);
    assert.equal(svc.code, 0, svc.stderr);
    await running(m1, 'api', 2);
    const web = await lab.docker('w1', ['run', '-d', '--name', 'peer', '--network', 'shared', '--network-alias', 'the-peer', 'busybox', 'sh', '-c', 'echo peer > /tmp/index.html; exec httpd -f -p 80 -h /tmp']);
    assert.equal(web.code, 0, web.stderr);
    const peerId = web.stdout.trim();
    const [att] = await attachments();
    const nodes = await m1.get<Array<{ ID: string; Description: { Hostname: string } }>>('/nodes');
    assert.equal(att.ServiceID, '');
    assert.equal(att.NodeID, nodes.find((n) => n.Description.Hostname === 'w1')!.ID, 'the attachment is on the container\'s node');
    assert.equal(att.Status.State, 'running');
    assert.equal(att.Spec.NetworkAttachmentSpec?.ContainerID, peerId);
    assert.deepEqual(att.Spec.Networks![0].Aliases, ['peer', 'the-peer', peerId.slice(0, 12)]);
    const addr = att.NetworksAttachments![0].Addresses[0].split('/')[0];
    const inside = await lab.docker('w1', ['exec', 'peer', 'ip', '-4', '-o', 'addr', 'show', 'eth0']);
    assert.match(inside.stdout, new RegExp(` ${addr.replace(/\./g, '\\.')}/24 `), 'the container has the address the cluster chose');

    // From a third host, a container started on the network reaches the service by name and the peer by its names.
    const probe = await lab.docker('w2', ['run', '--rm', '--network', 'shared', 'busybox', 'sh', '-c', 'for n in api peer the-peer; do timeout 10 wget -q -O - http://$n/index.html || echo FAILED $n; done']);
    assert.equal(probe.code, 0, probe.stderr);
    assert.deepEqual(probe.stdout.trim().split('\n'), ['api', 'peer', 'peer']);
    // And a service task reaches the peer by name.
    const [task] = await m1.get<TaskNet[]>('/tasks', { query: { filters: JSON.stringify({ service: ['api'], 'desired-state': ['running'] }) } });
    const taskHost = nodes.find((n) => n.ID === task.NodeID)!.Description.Hostname;
    await eventually('a task reaches the peer by name', async () => (await lab.docker(taskHost, ['exec', task.Status.ContainerStatus!.ContainerID!, 'timeout', '10', 'wget', '-q', '-O', '-', 'http://peer/index.html'])).stdout.trim() === 'peer');
    await eventually('the probe\'s attachment is gone with its container', async () => (await attachments()).length === 1);

    // Not attachable, or no such network: refused with Docker's message; nothing stays attached.
    const closed = await lab.docker('w2', ['run', '--rm', '--network', 'private', 'busybox', 'true']);
    assert.notEqual(closed.code, 0);
    assert.match(closed.stderr, /network private not manually attachable/);
    const missing = await lab.docker('w2', ['run', '--rm', '--network', 'nosuchnet', 'busybox', 'true']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /network nosuchnet not found/);
    assert.equal((await attachments()).length, 1);

    // network connect and disconnect of a running container.
    assert.equal((await lab.docker('w2', ['run', '-d', '--name', 'late', 'busybox', 'sleep', '1d'])).code, 0);
    const conn = await lab.docker('w2', ['network', 'connect', 'shared', 'late']);
    assert.equal(conn.code, 0, conn.stderr);
    assert.equal((await attachments()).length, 2);
    const lateProbe = await lab.docker('w2', ['exec', 'late', 'timeout', '10', 'wget', '-q', '-O', '-', 'http://peer/index.html']);
    assert.equal(lateProbe.stdout.trim(), 'peer', lateProbe.stderr);
    assert.equal((await lab.docker('w2', ['network', 'disconnect', 'shared', 'late'])).code, 0);
    assert.equal((await attachments()).length, 1, 'disconnect gives the address back');
    assert.equal((await lab.docker('w2', ['rm', '-f', 'late'])).code, 0);

    // The network stays while a plain container is on it; a stopped container attaches again when it starts.
    assert.equal((await lab.docker('m1', ['service', 'rm', 'api'])).code, 0);
    await eventually('only the peer holds the network', async () => {
      const r = await lab.docker('m1', ['network', 'rm', 'shared']);
      return /1 task is still attached/.test(r.stderr);
    });
    assert.equal((await lab.docker('w1', ['stop', '-t', '1', 'peer'])).code, 0);
    assert.equal((await attachments()).length, 0, 'a stopped container holds no address');
    await eventually('w1 left the network', async () => (await links('w1')).length === 0);
    assert.equal((await lab.docker('w1', ['start', 'peer'])).code, 0);
    assert.equal((await attachments()).length, 1);
    assert.equal((await links('w1')).length, 2, 'w1 joined again');
    assert.equal((await lab.docker('w1', ['rm', '-f', 'peer'])).code, 0);
    await eventually('the network can go', async () => (await lab.docker('m1', ['network', 'rm', 'shared', 'private'])).code === 0);
    for (const h of ['m1', 'w1', 'w2']) await eventually(`${h} has no overlay device left`, async () => (await links(h)).length === 0);
  });

  it('UDP through the VIP and the routing mesh: datagrams reach every task, answers come back', async () => {
    // busybox has no UDP server: the test runs one (node) in each task's network namespace.
    assert.equal((await lab.docker('m1', ['network', 'create', '-d', 'overlay', 'udpnet'])).code, 0);
    const svc = await lab.docker('m1', ['service', 'create', '--detach', '--name', 'dgram', '--replicas', '2', '--network', 'udpnet', '-p', '5353:5353/udp', '--stop-grace-period', '1s', 'busybox', 'sleep', '1d']);
    assert.equal(svc.code, 0, svc.stderr);
    const client = await lab.docker('m1', ['service', 'create', '--detach', '--name', 'dclient', '--network', 'udpnet', '--stop-grace-period', '1s', 'busybox', 'sleep', '1d']);
    assert.equal(client.code, 0, client.stderr);
    await running(m1, 'dgram', 2);
    await running(m1, 'dclient', 1);
    const nodes = await m1.get<Array<{ ID: string; Description: { Hostname: string } }>>('/nodes');
    const pidOf = async (t: TaskNet) => {
      const host = nodes.find((n) => n.ID === t.NodeID)!.Description.Hostname;
      return Number((await lab.docker(host, ['inspect', '-f', '{{.State.Pid}}', t.Status.ContainerStatus!.ContainerID!])).stdout.trim());
    };
    const tasksOf = (service: string) => m1.get<Array<TaskNet & { ID: string }>>('/tasks', { query: { filters: JSON.stringify({ service: [service], 'desired-state': ['running'] }) } });
    const servers: ChildProcess[] = [];
    try {
      const backends = await tasksOf('dgram');
      for (const t of backends) {
        const child = spawn('nsenter', ['-t', String(await pidOf(t)), '-n', process.execPath, '-e', UDP_ECHO, t.ID], { stdio: ['ignore', 'pipe', 'inherit'] });
        servers.push(child);
        await new Promise<void>((resolve, reject) => {
          child.stdout!.once('data', () => resolve());
          child.once('exit', (code) => reject(new Error(`the UDP server in task ${t.ID} exited (${code})`)));
        });
      }
      const names = backends.map((t) => t.ID).sort();
      const [svcObj] = await m1.get<Array<{ Endpoint: { VirtualIPs: Array<{ NetworkID: string; Addr: string }> } }>>('/services', { query: { filters: JSON.stringify({ name: ['dgram'] }) } });
      const [net] = await m1.get<Array<{ Id: string }>>('/networks', { query: { filters: JSON.stringify({ name: ['udpnet'] }) } });
      const vip = svcObj.Endpoint.VirtualIPs.find((v) => v.NetworkID === net.Id)!.Addr.split('/')[0];
      const send = async (args: string[]) => (await new Promise<string>((resolve, reject) => {
        const c = spawn(args[0], [...args.slice(1)], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
        c.once('error', reject);
        c.once('exit', () => resolve(out));
      })).trim().split('\n');

      // The VIP, from the client task's namespace: every datagram answered, both tasks reached.
      const [clientTask] = await tasksOf('dclient');
      const clientPid = String(await pidOf(clientTask));
      const viaVip = await eventually('the VIP answers UDP', async () => {
        const a = await send(['nsenter', '-t', clientPid, '-n', process.execPath, '-e', UDP_CLIENT, vip, '5353', '20']);
        return a.length === 20 && !a.includes('TIMEOUT') ? a : undefined;
      });
      assert.deepEqual([...new Set(viaVip)].sort(), names, 'datagrams spread over both tasks');

      // The mesh: every host's published UDP port answers, whichever node runs the tasks.
      const reached = new Set<string>();
      for (const h of lab.hosts) {
        const a = await eventually(`${h.name}:5353/udp answers`, async () => {
          const r = await lab.exec(h.name, [process.execPath, '-e', UDP_CLIENT, h.address, '5353', '10']);
          const lines = r.stdout.trim().split('\n');
          return lines.length === 10 && !lines.includes('TIMEOUT') ? lines : undefined;
        });
        for (const x of a) {
          assert.ok(names.includes(x), `${h.name}: answer ${x}`);
          reached.add(x);
        }
      }
      assert.deepEqual([...reached].sort(), names, 'the mesh reached both tasks');
    } finally {
      for (const c of servers) if (c.exitCode === null) c.kill('SIGKILL');
    }
    assert.equal((await lab.docker('m1', ['service', 'rm', 'dgram', 'dclient'])).code, 0);
    await eventually('the network can go', async () => (await lab.docker('m1', ['network', 'rm', 'udpnet'])).code === 0);
  });
});
