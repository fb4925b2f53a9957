// Overlay network benchmarks on the 3-host lab: throughput and request rate through a service's
// VIP, and through a port published by the routing mesh, each against a direct connection to
// the same task in the same run; how soon a task that reaches RUNNING receives VIP traffic; how
// soon a killed task leaves the VIP's backend set. Figures only.
import { startLab, type TestLab } from '../test/helpers/lab';
import { running } from '../test/helpers/swarm';
import { readFileSync } from 'node:fs';
import { median, ms } from './stats';

interface TaskJson {
  ID: string;
  NodeID: string;
  Status: { State: string; Timestamp: string; ContainerStatus?: { ContainerID?: string } };
  NetworksAttachments?: Array<{ Network: { ID: string }; Addresses: string[] }>;
}

const SERVER = 'head -c 50000000 /dev/zero > /tmp/big; echo $(hostname) > /tmp/name; exec httpd -f -p 80 -h /tmp';

async function tasks(lab: TestLab, service: string): Promise<TaskJson[]> {
  return lab.host('m1').client.get<TaskJson[]>('/tasks', { query: { filters: JSON.stringify({ service: [service], 'desired-state': ['running'] }) } });
}

/** The ingress network's ID among a task's attachments (the one the mesh publishes on). */
function ingressOf(t: TaskJson): string | undefined {
  return t.NetworksAttachments?.find((a) => (a.Network as { Spec?: { Ingress?: boolean } }).Spec?.Ingress)?.Network.ID;
}

async function hostOf(lab: TestLab, nodeId: string): Promise<string> {
  const nodes = await lab.host('m1').client.get<Array<{ ID: string; Description: { Hostname: string } }>>('/nodes');
  return nodes.find((n) => n.ID === nodeId)!.Description.Hostname;
}

/** Run a shell line in a task container; its stdout. */
async function inTask(lab: TestLab, host: string, container: string, line: string): Promise<string> {
  const r = await lab.docker(host, ['exec', container, 'sh', '-c', line]);
  if (r.code !== 0) throw new Error(`${line}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

// busybox date has no %N: time inside the container comes from /proc/uptime (10 ms steps), the
// kernel's clock since boot, which every lab host shares with this process.
const UPTIME = "cut -d' ' -f1 /proc/uptime";

/** Milliseconds per 50 MB download (6 in a row), and requests/s over 100 small requests, to `target`. */
async function measure(lab: TestLab, host: string, container: string, target: string): Promise<{ bulkMs: number; rps: number }> {
  const span = async (body: string) => {
    const [a, b] = (await inTask(lab, host, container, `${UPTIME}; ${body}; ${UPTIME}`)).split('\n').map(Number);
    return (b - a) * 1000;
  };
  const bulk = await span(`for i in 1 2 3 4 5 6; do wget -q -O /dev/null http://${target}/big; done`);
  const small = await span(`for i in $(seq 100); do wget -q -O /dev/null http://${target}/name; done`);
  return { bulkMs: bulk / 6, rps: 100 / (small / 1000) };
}

/** Wall-clock milliseconds of a /proc/uptime reading. */
function uptimeToWall(): (uptime: number) => number {
  const [up] = readFileSync('/proc/uptime', 'utf8').split(' ').map(Number);
  const offset = Date.now() - up * 1000;
  return (u) => u * 1000 + offset;
}

export async function networkBench(): Promise<void> {
  const lab = await startLab({ managers: 1, workers: 2 });
  try {
    const m1 = lab.host('m1').client;
    await lab.docker('m1', ['network', 'create', '-d', 'overlay', 'bench']);
    // One server task, pinned to w2; the client runs on w1, so every byte crosses VXLAN.
    await lab.docker('m1', ['service', 'create', '--detach', '--name', 'srv', '--network', 'bench', '-p', '8080:80', '--constraint', 'node.hostname==w2', 'busybox', 'sh', '-c', SERVER]);
    await lab.docker('m1', ['service', 'create', '--detach', '--name', 'cli', '--network', 'bench', '--constraint', 'node.hostname==w1', 'busybox', 'sleep', '1d']);
    await running(m1, 'srv', 1);
    await running(m1, 'cli', 1);
    const [srv] = await tasks(lab, 'srv');
    const [cli] = await tasks(lab, 'cli');
    const client = cli.Status.ContainerStatus!.ContainerID!;
    const direct = srv.NetworksAttachments!.find((a) => a.Network.ID !== ingressOf(srv))!.Addresses[0].split('/')[0];
    // The VIP by address, so that both sides skip DNS; the name is measured on its own below.
    const svc = await m1.get<{ Endpoint: { VirtualIPs: Array<{ Addr: string }> } }>('/services/srv');
    const vip = svc.Endpoint.VirtualIPs[0].Addr.split('/')[0];
    const runs = Number(process.env.BENCH_RUNS ?? 5);
    const d: Array<{ bulkMs: number; rps: number }> = [];
    const v: Array<{ bulkMs: number; rps: number }> = [];
    const n: Array<{ bulkMs: number; rps: number }> = [];
    await measure(lab, 'w1', client, 'srv'); // warm: ARP, DNS, page cache
    for (let i = 0; i < runs; i++) {
      d.push(await measure(lab, 'w1', client, direct));
      v.push(await measure(lab, 'w1', client, vip));
      n.push(await measure(lab, 'w1', client, 'srv'));
    }
    const mbps = (xs: typeof d) => 50 / (median(xs.map((x) => x.bulkMs)) / 1000);
    const rps = (xs: typeof d) => median(xs.map((x) => x.rps));
    console.log('\n== overlay network (client task on w1, server task on w2, over VXLAN) ==');
    console.log(`  direct to the task        ${mbps(d).toFixed(0)} MB/s   ${rps(d).toFixed(0)} requests/s (median of ${runs}; each request is a busybox wget process)`);
    console.log(`  through the service VIP   ${mbps(v).toFixed(0)} MB/s   ${rps(v).toFixed(0)} requests/s  = ${(mbps(v) / mbps(d)).toFixed(2)} / ${(rps(v) / rps(d)).toFixed(2)} of direct`);
    console.log(`  by name (DNS, then VIP)   ${mbps(n).toFixed(0)} MB/s   ${rps(n).toFixed(0)} requests/s  = ${(mbps(n) / mbps(d)).toFixed(2)} / ${(rps(n) / rps(d)).toFixed(2)} of direct (a lookup per request)`);

    // The routing mesh: a client task on m1 (which runs no server task), itself on the ingress
    // network (it publishes a port of its own), against the server's ingress address directly,
    // then through m1's published port 8080; both cross VXLAN to w2 once.
    await lab.docker('m1', ['service', 'create', '--detach', '--name', 'edge', '-p', '9999:9999', '--constraint', 'node.hostname==m1', 'busybox', 'sleep', '1d']);
    await running(m1, 'edge', 1);
    const [edge] = await tasks(lab, 'edge');
    const edgeC = edge.Status.ContainerStatus!.ContainerID!;
    const taskIngress = (await tasks(lab, 'srv'))[0].NetworksAttachments!.find((a) => a.Network.ID === ingressOf(srv))!.Addresses[0].split('/')[0];
    const published = `${lab.host('m1').address}:8080`;
    await measure(lab, 'm1', edgeC, published);
    const hd: typeof d = [];
    const hm: typeof d = [];
    for (let i = 0; i < runs; i++) {
      hd.push(await measure(lab, 'm1', edgeC, taskIngress));
      hm.push(await measure(lab, 'm1', edgeC, published));
    }
    console.log('\n== routing mesh (client task on m1, which runs no server task; server task on w2) ==');
    console.log(`  direct to the task's ingress address   ${mbps(hd).toFixed(0)} MB/s   ${rps(hd).toFixed(0)} requests/s`);
    console.log(`  through the published port (m1:8080)  ${mbps(hm).toFixed(0)} MB/s   ${rps(hm).toFixed(0)} requests/s  = ${(mbps(hm) / mbps(hd)).toFixed(2)} / ${(rps(hm) / rps(hd)).toFixed(2)} of direct (target >= 0.9)`);

    // A new task: from RUNNING (its status timestamp) to its first answer through the VIP.
    const toWall = uptimeToWall();
    const joins: number[] = [];
    const leaves: number[] = [];
    for (let round = 0; round < Number(process.env.BENCH_NET_ROUNDS ?? 3); round++) {
      const before = new Set((await tasks(lab, 'srv')).map((t) => t.ID));
      const spec = await m1.get<{ Version: { Index: number }; Spec: { Mode: { Replicated: { Replicas: number } } } }>('/services/srv');
      const next = structuredClone(spec.Spec);
      next.Mode.Replicated.Replicas += 1;
      // The probe loop runs in the client: one request every ~20 ms, each line "<ns> <hostname>".
      const probe = lab.docker('w1', ['exec', client, 'sh', '-c', `end=$(( $(date +%s) + 20 )); while [ $(date +%s) -lt $end ]; do echo "$(${UPTIME}) $(wget -q -O - http://srv/name 2>/dev/null)"; usleep 20000; done`]);
      await new Promise((r) => setTimeout(r, 500));
      await m1.post('/services/srv/update', { query: { version: String(spec.Version.Index) }, body: next });
      const all = await running(m1, 'srv', next.Mode.Replicated.Replicas);
      const fresh = all.find((t) => !before.has(t.ID))!;
      const full = (await tasks(lab, 'srv')).find((t) => t.ID === fresh.ID)!;
      const freshName = (await inTask(lab, await hostOf(lab, full.NodeID), full.Status.ContainerStatus!.ContainerID!, 'hostname'));
      const lines = (await probe).stdout.trim().split('\n').map((l) => l.split(' '));
      const first = lines.find(([, name]) => name === freshName);
      if (first) joins.push(toWall(Number(first[0])) - Date.parse(full.Status.Timestamp));

      // Kill it: from the kill to its address leaving the client node's VIP chain.
      const ip = full.NetworksAttachments![0].Addresses[0].split('/')[0];
      const host = await hostOf(lab, full.NodeID);
      const t0 = Date.now();
      await lab.docker(host, ['kill', full.Status.ContainerStatus!.ContainerID!]);
      for (;;) {
        const rules = (await lab.exec('w1', ['nft', 'list', 'ruleset'])).stdout;
        const chain = new RegExp(`chain vip_${vip.replace(/\\./g, '_')} \\{[^}]*\\}`).exec(rules)?.[0] ?? '';
        if (!chain.includes(`${ip},`) && !chain.includes(`${ip} }`)) break;
        if (Date.now() - t0 > 30_000) throw new Error('the killed task never left the backend set');
        await new Promise((r) => setTimeout(r, 10));
      }
      leaves.push(Date.now() - t0);
    }
    console.log(`  task RUNNING -> first request through the VIP   median ${ms(median(joins))} of ${joins.length}   (target under 1 s)`);
    console.log(`  task killed -> out of the VIP's backend set      median ${ms(median(leaves))} of ${leaves.length}   (target under 1 s)`);
  } finally {
    await lab.down();
  }
}
