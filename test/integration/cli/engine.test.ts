// The real shoal binary against a real shoald: images, registry, networks, volumes, system.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon, loadBusybox, busyboxRootfs, type TestDaemon } from '../../helpers/daemon';
import { startRegistry, registryAvailable, type TestRegistry } from '../../helpers/registry';
import { shoal as run } from './helpers';

describe('shoal CLI against shoald: images, networks, volumes, system', function () {
  this.timeout(120_000);
  let d: TestDaemon;
  let dir: string;
  const shoal = (args: string[], opts?: Parameters<typeof run>[2]) => run(d.host, args, opts);

  before(async () => {
    dir = await fs.mkdtemp(join(tmpdir(), 'shoal-cli-engine-'));
    d = await startDaemon();
    await loadBusybox(d);
  });
  after(async () => {
    await d?.destroy();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('version and info', async () => {
    const v = await shoal(['version', '-f', '{{.Server.ApiVersion}} {{.Client.ApiVersion}}']);
    assert.deepEqual([v.code, v.stdout], [0, '1.50 1.50\n']);
    const human = await shoal(['version']);
    assert.match(human.stdout, /^Client:\n Version: +\S+\n API version: +1\.50\n/);
    assert.match(human.stdout, /\nServer: shoal\n Engine:\n {2}Version: /);
    const info = await shoal(['info', '--format', '{{.Images}} {{.OSType}} {{json .Swarm.LocalNodeState}}']);
    assert.deepEqual([info.code, info.stdout], [0, '1 linux "inactive"\n']);
    const text = await shoal(['info']);
    assert.match(text.stdout, /\nServer:\n Containers: \d+\n {2}Running: \d+\n[\s\S]* Images: 1\n/);
  });

  it('images, image inspect, tag, history, rmi', async () => {
    const ls = await shoal(['images']);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE\nbusybox +latest +[0-9a-f]{12} +.+ ago +[\d.]+[kM]B\n$/);
    const id = (await shoal(['image', 'inspect', '-f', '{{.Id}}', 'busybox'])).stdout.trim();
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    assert.equal((await shoal(['images', '-q'])).stdout, `${id.slice(7, 19)}\n`);
    assert.equal((await shoal(['images', '--no-trunc', '--format', '{{.ID}}'])).stdout, `${id}\n`);

    assert.deepEqual(await shoal(['tag', 'busybox', 'example/tool:1.0']), { code: 0, stdout: '', stderr: '' });
    const tagged = await shoal(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}']);
    assert.deepEqual(tagged.stdout.trim().split('\n').sort(), ['busybox:latest', 'example/tool:1.0']);
    const ref = await shoal(['images', 'example/tool', '--format', '{{.Repository}}']);
    assert.equal(ref.stdout, 'example/tool\n');

    const hist = await shoal(['history', 'busybox']);
    assert.match(hist.stdout, /^IMAGE +CREATED +CREATED BY +SIZE +COMMENT\n[0-9a-f]{12} +.+ ago/);

    const rmi = await shoal(['rmi', 'example/tool:1.0']);
    assert.deepEqual([rmi.code, rmi.stdout], [0, 'Untagged: example/tool:1.0\n']);
    const missing = await shoal(['rmi', 'example/tool:1.0', 'nope:1']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^Error response from daemon: .*example\/tool:1\.0.*\nError response from daemon: .*nope:1.*\n$/);
    const badTag = await shoal(['tag', 'busybox', 'Upper/Case']);
    assert.equal(badTag.code, 1);
    assert.equal(badTag.stderr, 'Error parsing reference: "Upper/Case" is not a valid repository/tag: invalid reference format: repository name (Case) must be lowercase\n');
  });

  it('save -o, rmi, load -i, load from stdin, import', async () => {
    const tarPath = join(dir, 'bb.tar');
    const save = await shoal(['save', '-o', tarPath, 'busybox']);
    assert.equal(save.code, 0, save.stderr);
    assert.ok((await fs.stat(tarPath)).size > 100_000);
    assert.equal((await shoal(['rmi', 'busybox'])).code, 0);
    assert.equal((await shoal(['images', '-q'])).stdout, '');
    const load = await shoal(['load', '-i', tarPath]);
    assert.deepEqual([load.code, load.stdout], [0, 'Loaded image: busybox:latest\n']);
    const again = await shoal(['image', 'load'], { input: await fs.readFile(tarPath) });
    assert.deepEqual([again.code, again.stdout], [0, 'Loaded image: busybox:latest\n']);
    const noFile = await shoal(['load', '-i', join(dir, 'missing.tar')]);
    assert.deepEqual([noFile.code, noFile.stderr], [1, `open ${join(dir, 'missing.tar')}: no such file or directory\n`]);

    const rootfs = join(dir, 'rootfs.tar');
    await fs.writeFile(rootfs, await busyboxRootfs());
    const imp = await shoal(['import', '-m', 'from the test', '-c', 'CMD ["sh"]', rootfs, 'imported:v1']);
    assert.equal(imp.code, 0, imp.stderr);
    assert.match(imp.stdout, /^sha256:[0-9a-f]{64}\n$/);
    const cmd = await shoal(['image', 'inspect', '-f', '{{json .Config.Cmd}}', 'imported:v1']);
    assert.equal(cmd.stdout, '["sh"]\n');
    const fromStdin = await shoal(['import', '-', 'piped:v2'], { input: await busyboxRootfs() });
    assert.equal(fromStdin.code, 0, fromStdin.stderr);
    assert.equal((await shoal(['images', 'piped', '--format', '{{.Repository}}:{{.Tag}}'])).stdout, 'piped:v2\n');
    assert.equal((await shoal(['rmi', 'imported:v1', 'piped:v2'])).code, 0);
  });

  it('push to and pull from a docker-registry on loopback', async function () {
    if (!registryAvailable()) this.skip();
    let reg: TestRegistry | undefined;
    try {
      reg = await startRegistry();
      const name = `${reg.domain}/cli/busybox:1`;
      assert.equal((await shoal(['tag', 'busybox', name])).code, 0);
      const push = await shoal(['push', name]);
      assert.equal(push.code, 0, push.stderr);
      assert.match(push.stdout, /digest: sha256:[0-9a-f]{64}/);
      assert.equal((await shoal(['rmi', name])).code, 0);
      const pull = await shoal(['pull', name]);
      assert.equal(pull.code, 0, pull.stderr);
      assert.ok(pull.stdout.endsWith(`${name}\n`), pull.stdout);
      assert.match(pull.stdout, /Digest: sha256:[0-9a-f]{64}/);
      const missing = await shoal(['pull', `${reg.domain}/cli/nothing:here`]);
      assert.equal(missing.code, 1);
      assert.notEqual(missing.stderr, '');
      assert.equal((await shoal(['rmi', name])).code, 0);
    } finally {
      await reg?.destroy();
    }
  });

  it('network create, ls, inspect, rm, prune and bad input', async () => {
    const create = await shoal(['network', 'create', '--subnet', '10.231.7.0/24', '--gateway', '10.231.7.1', '--ip-range', '10.231.7.128/25', '--label', 'team=cli', '--internal', '--attachable', 'clinet']);
    assert.equal(create.code, 0, create.stderr);
    const id = create.stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    const ls = await shoal(['network', 'ls']);
    assert.match(ls.stdout, /^NETWORK ID +NAME +DRIVER +SCOPE\n/);
    assert.match(ls.stdout, new RegExp(`\\n${id.slice(0, 12)} +clinet +bridge +local\\n`));
    assert.equal((await shoal(['network', 'ls', '-q', '-f', 'label=team=cli'])).stdout, `${id.slice(0, 12)}\n`);
    const insp = await shoal(['network', 'inspect', '-f', '{{.Name}} {{.Internal}} {{.Attachable}} {{range .IPAM.Config}}{{.Subnet}} {{.Gateway}} {{.IPRange}}{{end}} {{index .Labels "team"}}', 'clinet']);
    assert.deepEqual([insp.code, insp.stdout], [0, 'clinet true true 10.231.7.0/24 10.231.7.1 10.231.7.128/25 cli\n']);
    const full = JSON.parse((await shoal(['inspect', '--type', 'network', 'clinet'])).stdout) as Array<{ Id: string }>;
    assert.equal(full[0].Id, id);

    const dup = await shoal(['network', 'create', 'clinet']);
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /^Error response from daemon: .*clinet.*\n$/);
    const noSubnet = await shoal(['network', 'create', '--gateway', '10.0.0.1', 'x']);
    assert.deepEqual([noSubnet.code, noSubnet.stderr], [1, 'every ip-range or gateway must have a corresponding subnet\n']);
    const outside = await shoal(['network', 'create', '--subnet', '10.232.0.0/24', '--gateway', '10.233.0.1', 'x']);
    assert.deepEqual([outside.code, outside.stderr], [1, 'no matching subnet for gateway 10.233.0.1\n']);

    const rm = await shoal(['network', 'rm', 'clinet', 'nonet']);
    assert.equal(rm.code, 1);
    assert.equal(rm.stdout, 'clinet\n');
    assert.match(rm.stderr, /^Error response from daemon: .*nonet.*\n$/);
    assert.equal((await shoal(['network', 'rm', '-f', 'nonet'])).code, 0);

    assert.equal((await shoal(['network', 'create', 'spare'])).code, 0);
    const prune = await shoal(['network', 'prune', '-f']);
    assert.deepEqual([prune.code, prune.stdout], [0, 'Deleted Networks:\nspare\n\n']);
    const names = (await shoal(['network', 'ls', '--format', '{{.Name}}'])).stdout.trim().split('\n');
    assert.deepEqual(names, ['bridge', 'host', 'none']);
  });

  it('prune asks first and does nothing without a yes', async () => {
    assert.equal((await shoal(['network', 'create', 'keepme'])).code, 0);
    const no = await shoal(['network', 'prune'], { input: 'n\n' });
    assert.deepEqual([no.code, no.stdout], [0, 'WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue? [y/N] ']);
    assert.match((await shoal(['network', 'ls'])).stdout, /keepme/);
    const yes = await shoal(['network', 'prune'], { input: 'y\n' });
    assert.match(yes.stdout, /\[y\/N\] Deleted Networks:\nkeepme\n/);
  });

  it('volume create, ls, inspect, rm, prune', async () => {
    assert.deepEqual(await shoal(['volume', 'create', '--label', 'team=cli', 'clivol']), { code: 0, stdout: 'clivol\n', stderr: '' });
    const anon = (await shoal(['volume', 'create'])).stdout.trim();
    assert.match(anon, /^[0-9a-f]{64}$/);
    const ls = await shoal(['volume', 'ls']);
    assert.match(ls.stdout, /^DRIVER +VOLUME NAME\n/);
    assert.match(ls.stdout, /\nlocal +clivol\n/);
    assert.equal((await shoal(['volume', 'ls', '-q', '-f', 'label=team=cli'])).stdout, 'clivol\n');
    const insp = await shoal(['volume', 'inspect', '--format', '{{.Name}} {{.Driver}} {{.Labels.team}}', 'clivol']);
    assert.deepEqual([insp.code, insp.stdout], [0, 'clivol local cli\n']);
    const json = JSON.parse((await shoal(['volume', 'inspect', 'clivol', anon])).stdout) as Array<{ Name: string; Mountpoint: string }>;
    assert.deepEqual(
      json.map((v) => v.Name),
      ['clivol', anon],
    );
    const missing = await shoal(['volume', 'inspect', 'novol']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^Error response from daemon: .*novol.*\n$/);
    const bad = await shoal(['volume', 'create', 'bad/name']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^Error response from daemon: /);

    const prune = await shoal(['volume', 'prune', '-f']);
    assert.equal(prune.code, 0, prune.stderr);
    assert.match(prune.stdout, new RegExp(`^Deleted Volumes:\\n${anon}\\n\\nTotal reclaimed space: [\\d.]+k?B\\n$`));
    const rm = await shoal(['volume', 'rm', 'clivol', 'novol']);
    assert.deepEqual([rm.code, rm.stdout], [1, 'clivol\n']);
    assert.equal((await shoal(['volume', 'ls', '-q'])).stdout, '');
  });

  it('events: since/until window, filters, default lines and --format', async () => {
    const since = String(Math.floor(Date.now() / 1000) - 1);
    assert.equal((await shoal(['volume', 'create', 'evvol'])).code, 0);
    assert.equal((await shoal(['volume', 'rm', 'evvol'])).code, 0);
    const until = String(Math.floor(Date.now() / 1000) + 1);
    const fmt = await shoal(['events', '--since', since, '--until', until, '-f', 'type=volume', '-f', 'volume=evvol', '--format', '{{.Type}} {{.Action}} {{.Actor.ID}}']);
    assert.deepEqual([fmt.code, fmt.stdout], [0, 'volume create evvol\nvolume destroy evvol\n']);
    const lines = await shoal(['events', '--since', '10m', '--until', '0s', '-f', 'volume=evvol', '-f', 'event=create']);
    assert.equal(lines.code, 0, lines.stderr);
    assert.match(lines.stdout, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}(Z|[+-]\d{2}:\d{2}) volume create evvol \(driver=local\)\n$/m);
    const json = await shoal(['system', 'events', '--since', since, '--until', until, '-f', 'volume=evvol', '--format', 'json']);
    const first = JSON.parse(json.stdout.split('\n')[0]) as { Type: string; Actor: { ID: string } };
    assert.deepEqual([first.Type, first.Actor.ID], ['volume', 'evvol']);
    const bad = await shoal(['events', '--since', 'yesterday']);
    assert.deepEqual([bad.code, bad.stderr], [1, 'failed to parse value as time or duration: "yesterday"\n']);
  });

  it('build from a context directory and from stdin', async function () {
    const ctx = join(dir, 'ctx');
    await fs.mkdir(join(ctx, 'files'), { recursive: true });
    await fs.writeFile(join(ctx, 'files', 'hello.txt'), 'hello from the context\n');
    await fs.writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nARG GREETING=unset\nLABEL greeting=$GREETING\nCOPY files /files\n');
    const b = await shoal(['build', '-t', 'cli-built:1', '--build-arg', 'GREETING=hi', '--label', 'origin=cli', ctx]);
    if (b.code !== 0 && /page not found/.test(b.stderr)) this.skip(); // the builder is not wired into shoald yet
    assert.equal(b.code, 0, b.stderr);
    // the classic builder adds --label as a last LABEL step, as docker's does
    assert.match(b.stdout, /^Step 1\/5 : FROM busybox\n[\s\S]*Successfully tagged cli-built:1\n$/);
    const labels = await shoal(['image', 'inspect', '-f', '{{index .Config.Labels "greeting"}} {{index .Config.Labels "origin"}}', 'cli-built:1']);
    assert.equal(labels.stdout, 'hi cli\n');
    const q = await shoal(['build', '-q', '-t', 'cli-built:2', '-'], { input: 'FROM busybox\nLABEL x=y\n' });
    assert.equal(q.code, 0, q.stderr);
    assert.match(q.stdout, /^sha256:[0-9a-f]{64}\n$/);
    const bad = await shoal(['build', '-'], { input: 'FROM busybox\nNOTANINSTRUCTION x\n' });
    assert.equal(bad.code, 1);
    assert.notEqual(bad.stderr, '');
    await shoal(['rmi', 'cli-built:1', 'cli-built:2']);
  });
});
