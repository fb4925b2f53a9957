import assert from 'node:assert/strict';
import { promises as fs, existsSync } from 'node:fs';
import { eventually, makeStack, runContainer, type Stack } from './fixture';

const MiB = 1024 * 1024;

describe('containers: limits and isolation (cgroups, caps, seccomp)', function () {
  this.timeout(60_000);
  let s: Stack;

  before(async () => {
    s = await makeStack();
  });
  after(async () => {
    await s?.destroy();
  });

  const cg = (controller: string, id: string, file: string) => `/sys/fs/cgroup/${controller}${s.config.cgroupParent}/${id}/${file}`;

  it('the engine set favordynmods on the cgroup2 mount, so moving a process into a cgroup skips an RCU wait', async () => {
    const v2 = (await fs.readFile('/proc/self/mountinfo', 'utf8')).split('\n').find((l) => / - cgroup2 /.test(l) && l.split(' ')[3] === '/');
    if (!v2) return; // a v1-only machine has nothing to set
    assert.match(v2.split(' - ')[1], /\bfavordynmods\b/);
  });

  it('memory 64m: a 200 MB allocation is OOM-killed (137, OOMKilled)', async () => {
    const r = await runContainer(s.cm, { Cmd: ['sh', '-c', 'head -c 209715200 /dev/zero | tail > /dev/null'], HostConfig: { Memory: 64 * MiB } });
    assert.equal(r.code, 137);
    const st = s.cm.get(r.id).State;
    assert.equal(st.OOMKilled, true);
    assert.equal(st.ExitCode, 137);
    assert.ok(s.events.history(0).some((e) => e.Action === 'oom' && e.Actor.ID === r.id), 'oom event');
    await s.cm.remove(r.id);
  });

  it('pids limit: fork fails beyond it', async () => {
    const r = await runContainer(s.cm, { Cmd: ['sh', '-c', 'for i in $(seq 1 40); do sleep 2 & done 2>&1; wait; echo finished'], HostConfig: { PidsLimit: 10 } });
    assert.match(r.stdout + r.stderr, /can't fork/);
    await s.cm.remove(r.id);
  });

  it('cpu quota: NanoCpus 0.5 sets the CFS quota and a busy loop gets about half a CPU', async () => {
    const { Id } = await s.cm.create({ Image: 'busybox', Cmd: ['sh', '-c', 'while :; do :; done'], HostConfig: { NanoCpus: 5e8, Memory: 32 * MiB, CpusetCpus: '0' } });
    await s.cm.start(Id);
    assert.equal((await fs.readFile(cg('cpu', Id, 'cpu.cfs_quota_us'), 'utf8')).trim(), '50000');
    assert.equal((await fs.readFile(cg('cpu', Id, 'cpu.cfs_period_us'), 'utf8')).trim(), '100000');
    assert.equal((await fs.readFile(cg('memory', Id, 'memory.limit_in_bytes'), 'utf8')).trim(), String(32 * MiB));
    assert.equal((await fs.readFile(cg('cpuset', Id, 'cpuset.cpus'), 'utf8')).trim(), '0');
    const usage = async () => Number((await fs.readFile(cg('cpuacct', Id, 'cpuacct.usage'), 'utf8')).trim());
    const u0 = await usage();
    const t0 = process.hrtime.bigint();
    await new Promise((r) => setTimeout(r, 1500));
    const used = (await usage()) - u0;
    const wall = Number(process.hrtime.bigint() - t0);
    // Unthrottled, the loop would use a whole CPU; with the quota, half.
    assert.ok(used < wall * 0.7, `used ${used / 1e6} ms of CPU in ${wall / 1e6} ms`);
    assert.ok(used > wall * 0.05, `the loop ran at all: ${used / 1e6} ms of CPU in ${wall / 1e6} ms`);
    await s.cm.remove(Id, { force: true });
  });

  it('default capabilities, seccomp and masked paths keep a container in its box (compiled filter and cached one)', async () => {
    for (const round of ['compiled', 'cached']) {
    const r = await runContainer(s.cm, {
      Cmd: [
        'sh',
        '-c',
        [
          'grep CapEff /proc/self/status',
          'grep Seccomp: /proc/self/status',
          'unshare -n true && echo unshare-ok || echo unshare-denied',
          'mkdir -p /m; mount -t tmpfs none /m 2>/dev/null && echo mount-ok || echo mount-denied',
          '[ -s /proc/kcore ] && echo kcore-visible || echo kcore-masked',
          'echo 1 > /proc/sys/kernel/domainname 2>/dev/null && echo procsys-rw || echo procsys-ro',
          'ping -c1 -W1 127.0.0.1 >/dev/null && echo ping-ok || echo ping-failed',
          'ulimit -n',
        ].join('; '),
      ],
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /CapEff:\s+00000000a80425fb/);
    assert.match(r.stdout, /Seccomp:\s+2/);
    for (const w of ['unshare-denied', 'mount-denied', 'kcore-masked', 'procsys-ro', 'ping-ok']) assert.match(r.stdout, new RegExp(w));
    assert.match(r.stdout, /^20000$/m);
    // The second container reuses the filter crun compiled for the first, and is just as boxed in.
    const spec = JSON.parse(await fs.readFile(`${s.config.execRoot}/containers/${r.id}/config.json`, 'utf8'));
    if (round === 'cached') assert.ok(spec.annotations?.['run.oci.seccomp_bpf_data'], 'the cached filter was used');
    await s.cm.remove(r.id);
    }
  });

  it('seccomp=unconfined and CAP_SYS_ADMIN give namespaces back; privileged has every capability', async () => {
    const r = await runContainer(s.cm, { Cmd: ['sh', '-c', 'unshare -n true && echo unshare-ok; grep Seccomp: /proc/self/status'], HostConfig: { CapAdd: ['SYS_ADMIN'], SecurityOpt: ['seccomp=unconfined'] } });
    assert.match(r.stdout, /unshare-ok/);
    assert.match(r.stdout, /Seccomp:\s+0/);
    await s.cm.remove(r.id);
    const p = await runContainer(s.cm, { Cmd: ['sh', '-c', 'grep CapEff /proc/self/status; mkdir -p /m && mount -t tmpfs none /m && echo mount-ok'], HostConfig: { Privileged: true } });
    assert.match(p.stdout, /mount-ok/);
    assert.doesNotMatch(p.stdout, /CapEff:\s+00000000a80425fb/);
    await s.cm.remove(p.id);
  });

  it('user, read-only rootfs, no-new-privileges, tmpfs and shm size', async () => {
    const r = await runContainer(s.cm, {
      User: 'www-data',
      Cmd: ['sh', '-c', 'id; touch /x 2>/dev/null && echo rootfs-rw || echo rootfs-ro; grep NoNewPrivs /proc/self/status; df -k /dev/shm | tail -1; df -k /scratch | tail -1; touch /scratch/ok && echo tmpfs-rw'],
      HostConfig: { ReadonlyRootfs: true, SecurityOpt: ['no-new-privileges'], ShmSize: 16 * MiB, Tmpfs: { '/scratch': 'size=8m,mode=1777' } },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /uid=33\(www-data\) gid=33\(www-data\)/);
    assert.match(r.stdout, /rootfs-ro/);
    assert.match(r.stdout, /NoNewPrivs:\s+1/);
    assert.match(r.stdout, /^shm\s+16384\s/m);
    assert.match(r.stdout, /^tmpfs\s+8192\s/m);
    assert.match(r.stdout, /tmpfs-rw/);
    await s.cm.remove(r.id);
  });

  it('hostname, domainname, env and working directory', async () => {
    const r = await runContainer(s.cm, { Hostname: 'web1', Domainname: 'example.org', Env: ['GREETING=hi'], WorkingDir: '/srv/app', Cmd: ['sh', '-c', 'hostname; cat /etc/hostname; echo $GREETING $HOSTNAME $HOME; pwd'] });
    assert.equal(r.stdout, 'web1\nweb1\nhi web1 /root\n/srv/app\n');
    const def = await runContainer(s.cm, { Cmd: ['hostname'] });
    assert.equal(def.stdout.trim(), def.id.slice(0, 12));
    await s.cm.remove(r.id);
    await s.cm.remove(def.id);
  });

  it('devices, a per-container cgroup parent; --init and a negative OomScoreAdj are refused up front', async () => {
    const parent = `${s.config.cgroupParent}-own`;
    const { Id } = await s.cm.create({ Image: 'busybox', Cmd: ['sh', '-c', 'ls -l /dev/mynull; echo x > /dev/mynull && echo wrote; sleep 30'], HostConfig: { Devices: [{ PathOnHost: '/dev/null', PathInContainer: '/dev/mynull', CgroupPermissions: 'rwm' }], CgroupParent: parent } });
    await s.cm.start(Id);
    assert.ok(await eventually(async () => existsSync(`/sys/fs/cgroup/memory${parent}/${Id}`)));
    let out = '';
    assert.ok(await eventually(async () => {
      out = '';
      for await (const e of s.cm.logs(Id, { stdout: true, stderr: true }).entries) out += e.data.toString();
      return out.includes('wrote');
    }), out);
    assert.match(out, /^c.* 1,\s+3 .*\/dev\/mynull$/m);
    await s.cm.remove(Id, { force: true });
    assert.equal(existsSync(`/sys/fs/cgroup/memory${parent}/${Id}`), false);
    for (const c of ['blkio', 'cpu', 'cpuacct', 'cpuset', 'devices', 'freezer', 'hugetlb', 'memory', 'pids', 'systemd', 'unified']) await fs.rmdir(`/sys/fs/cgroup/${c}${parent}`).catch(() => undefined);
    await assert.rejects(s.cm.create({ Image: 'busybox', Cmd: ['true'], HostConfig: { Init: true } }), /--init is not supported/);
    await assert.rejects(s.cm.create({ Image: 'busybox', Cmd: ['true'], HostConfig: { OomScoreAdj: -500 } }), /CAP_SYS_RESOURCE/);
  });

  it('update changes the limits of a running container and its restart policy', async () => {
    const { Id } = await s.cm.create({ Image: 'busybox', Cmd: ['sleep', '30'], HostConfig: { Memory: 64 * MiB, PidsLimit: 20 } });
    await s.cm.start(Id);
    await s.cm.update(Id, { Memory: 48 * MiB, NanoCpus: 25e7, PidsLimit: 30, RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 2 } });
    assert.equal((await fs.readFile(cg('memory', Id, 'memory.limit_in_bytes'), 'utf8')).trim(), String(48 * MiB));
    assert.equal((await fs.readFile(cg('cpu', Id, 'cpu.cfs_quota_us'), 'utf8')).trim(), '25000');
    assert.equal((await fs.readFile(cg('pids', Id, 'pids.max'), 'utf8')).trim(), '30');
    const hc = s.cm.get(Id).HostConfig;
    assert.deepEqual([hc.Memory, hc.NanoCpus, hc.PidsLimit, hc.RestartPolicy], [48 * MiB, 25e7, 30, { Name: 'on-failure', MaximumRetryCount: 2 }]);
    await assert.rejects(s.cm.update(Id, { Memory: 1024 }), /Minimum memory limit allowed is 6MB/);
    await assert.rejects(s.cm.update(Id, { Memory: 'more' }), /expected an integer/);
    await s.cm.remove(Id, { force: true });
  });

  it('pause freezes the container and unpause thaws it', async () => {
    const { Id } = await s.cm.create({ Image: 'busybox', Cmd: ['sleep', '30'] });
    await s.cm.start(Id);
    await s.cm.pause(Id);
    assert.equal(s.cm.get(Id).State.Status, 'paused');
    assert.equal((await fs.readFile(cg('freezer', Id, 'freezer.state'), 'utf8')).trim(), 'FROZEN');
    await assert.rejects(s.cm.pause(Id), /already paused/);
    assert.throws(() => s.cm.execCreate(Id, { Cmd: ['true'] }), /paused/);
    await s.cm.unpause(Id);
    assert.ok(await eventually(async () => (await fs.readFile(cg('freezer', Id, 'freezer.state'), 'utf8')).trim() === 'THAWED'));
    assert.equal(s.cm.get(Id).State.Status, 'running');
    await s.cm.remove(Id, { force: true });
  });
});
