// Builds with RUN steps in real containers (crun under conmon, overlay rootfs) through the
// container manager: output, layers, the finished image run as a container, the cache
// (proved by counting container create events), failures, and cancellation.

import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { create as tarCreate } from 'tar';
import type { EngineEvent } from '../../../shared/events';
import { containerManagerPort } from '../../../worker/engine/build/adapters';
import { makeStack, runContainer, type Stack } from '../containers/fixture';
import { BuildHarness, writeFiles } from './harness';

async function tarBytes(files: Record<string, string>): Promise<Buffer> {
  const dir = await fs.mkdtemp(join(tmpdir(), 'shoal-runtar-'));
  try {
    await writeFiles(dir, files);
    const chunks: Buffer[] = [];
    for await (const c of tarCreate({ cwd: dir, portable: true }, (await fs.readdir(dir)).sort()) as unknown as AsyncIterable<Buffer>) chunks.push(c);
    return Buffer.concat(chunks);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

describe('build: RUN steps in real containers', function () {
  this.timeout(180_000);
  let stack: Stack;
  let h: BuildHarness;
  const creates: string[] = [];
  const onEvent = (e: EngineEvent) => {
    if (e.Type === 'container' && e.Action === 'create') creates.push(e.Actor.ID);
  };
  let unsubscribe: AbortController;

  before(async () => {
    stack = await makeStack();
    h = await BuildHarness.open(containerManagerPort(stack.cm), join(stack.base, 'buildtest'), stack.images, stack.events);
    unsubscribe = new AbortController();
    void (async () => {
      for await (const e of stack.events.subscribe(unsubscribe.signal)) onEvent(e);
    })();
  });

  after(async () => {
    unsubscribe?.abort();
    await stack?.destroy();
  });

  let bundle: Buffer | undefined;
  // The bundle tar is made once: a new tar has new mtimes inside, which is a real change to ADD.
  const files = async () => ({
    Dockerfile: [
      'FROM busybox AS tools',
      'RUN mkdir -p /out && echo built-by-stage-one > /out/tool.txt',
      '',
      'FROM busybox',
      'ARG FLAVOUR=plain',
      'ENV APP=/srv/app GREETING="hi there"',
      'WORKDIR $APP',
      'COPY app.sh ./',
      'ADD bundle.tar /opt/',
      'COPY --from=tools /out/tool.txt /opt/tool.txt',
      'RUN echo "flavour=$FLAVOUR greeting=$GREETING pwd=$(pwd)" | tee /srv/app/run.txt && echo to-stderr >&2',
      'RUN ["/bin/sh", "-c", "id -u > /srv/app/uid-at-build.txt"]',
      'RUN echo "appuser:x:1234:1234::/srv/app:/bin/sh" >> /etc/passwd && chown appuser /srv/app',
      'USER appuser',
      'RUN id -un > /srv/app/whoami.txt',
      'HEALTHCHECK --interval=30s CMD test -f /srv/app/app.sh',
      'ENTRYPOINT ["/srv/app/app.sh"]',
      'CMD ["default-arg"]',
    ].join('\n'),
    '.dockerignore': 'ignored/\n',
    'ignored/big.txt': 'should not be sent\n',
    'app.sh': { content: '#!/bin/sh\necho "app $* as $(id -un) in $(pwd) with $GREETING"; cat /opt/tool.txt /opt/bundle/inside.txt\n', mode: 0o755 },
    'bundle.tar': { content: (bundle ??= await tarBytes({ 'bundle/inside.txt': 'from the tar\n' })) },
  });

  let firstId: string;

  it('runs RUN steps in containers, streams their output, commits their changes', async () => {
    const before = creates.length;
    const r = await h.build(await files(), { tags: ['runbuild:1'], buildArgs: { FLAVOUR: 'spicy' } });
    assert.equal(r.error, undefined, r.text);
    firstId = r.id!;
    // Five RUN steps: one container each, all removed afterwards.
    assert.equal(creates.length - before, 5);
    assert.equal(r.text.match(/ ---> Running in [0-9a-f]{12}\n/g)?.length, 5);
    assert.equal(r.text.match(/Removing intermediate container [0-9a-f]{12}\n/g)?.length, 5);
    assert.match(r.text, /flavour=spicy greeting=hi there pwd=\/srv\/app\n/);
    assert.match(r.text, /\u001b\[91mto-stderr\n\u001b\[0m/);
    assert.equal((await stack.cm.list({ all: true })).length, 0, 'no intermediate container is left');

    assert.equal(await h.readFile('runbuild:1', 'srv/app/run.txt'), 'flavour=spicy greeting=hi there pwd=/srv/app\n');
    assert.equal(await h.readFile('runbuild:1', 'srv/app/uid-at-build.txt'), '0\n');
    assert.equal(await h.readFile('runbuild:1', 'srv/app/whoami.txt'), 'appuser\n');
    assert.match((await h.readFile('runbuild:1', 'etc/passwd'))!, /^appuser:x:1234:/m);

    // A RUN layer holds what the command changed, not the runtime's mount points.
    const img = h.images.resolve('runbuild:1');
    const hist = h.images.history('runbuild:1') as Array<{ CreatedBy: string }>;
    assert.ok(hist.some((e) => e.CreatedBy === '|1 FLAVOUR=spicy /bin/sh -c echo "flavour=$FLAVOUR greeting=$GREETING pwd=$(pwd)" | tee /srv/app/run.txt && echo to-stderr >&2'));
    assert.ok(hist.some((e) => e.CreatedBy === '|1 FLAVOUR=spicy /bin/sh -c id -u > /srv/app/uid-at-build.txt'));
    const dirs = h.images.layerDirs(img);
    const runLayer = dirs[dirs.length - 1]; // RUN id -un (USER appuser)
    const top = (await fs.readdir(runLayer)).sort();
    assert.deepEqual(top, ['srv']);
    assert.deepEqual((await fs.readdir(join(runLayer, 'srv/app'))).sort(), ['whoami.txt']);

    // The finished image runs with its ENTRYPOINT, CMD, USER, WORKDIR and ENV.
    const out = await runContainer(stack.cm, { Image: 'runbuild:1' });
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, 'app default-arg as appuser in /srv/app with hi there\nbuilt-by-stage-one\nfrom the tar\n');
    await stack.cm.remove(out.id, { force: true });
    const c = (h.images.inspect('runbuild:1') as { Config: Record<string, unknown> }).Config;
    assert.deepEqual(c.Healthcheck, { Test: ['CMD-SHELL', 'test -f /srv/app/app.sh'], Interval: 30e9 });
    assert.deepEqual(c.Env, ['APP=/srv/app', 'GREETING=hi there']);
    assert.equal(await h.stat('runbuild:1', 'srv/app/ignored'), undefined);
  });

  it('rebuilds from the cache without creating a single container', async () => {
    const before = creates.length;
    const r = await h.build(await files(), { tags: ['runbuild:2'], buildArgs: { FLAVOUR: 'spicy' } });
    assert.equal(r.error, undefined, r.text);
    assert.equal(r.id, firstId);
    assert.equal(creates.length, before, 'no RUN step ran');
    assert.doesNotMatch(r.text, /Running in/);
    assert.equal(r.text.match(/Using cache/g)?.length, 15);
  });

  it('a changed build arg re-runs the RUN steps that see it; a changed file re-runs from its COPY on', async () => {
    let before = creates.length;
    const r = await h.build(await files(), { buildArgs: { FLAVOUR: 'mild' } });
    assert.equal(r.error, undefined, r.text);
    assert.notEqual(r.id, firstId);
    // The first stage and the steps before the first RUN come from the cache.
    assert.equal(creates.length - before, 4);
    assert.match(r.text, /flavour=mild/);

    before = creates.length;
    const f = await files();
    f['app.sh'] = { content: '#!/bin/sh\necho changed\n', mode: 0o755 };
    const r2 = await h.build(f, { buildArgs: { FLAVOUR: 'spicy' } });
    assert.equal(r2.error, undefined, r2.text);
    assert.equal(creates.length - before, 4, 'every RUN after the changed COPY ran again; stage one did not');
    assert.match(r2.text, /Step 7\/17 : COPY app.sh .\/\n ---> [0-9a-f]{12}\n/);
    assert.match(r2.text, /Step 5\/17 : ENV APP=\/srv\/app GREETING="hi there"\n ---> Using cache\n/);
  });

  it('a failing RUN fails the build with Docker\'s message; forcerm removes its container', async () => {
    const r = await h.build({ Dockerfile: 'FROM busybox\nRUN echo before\nRUN exit 3\nRUN echo never\n' });
    assert.equal(r.error, "The command '/bin/sh -c exit 3' returned a non-zero code: 3");
    assert.doesNotMatch(r.text, /never/);
    // Like Docker without --force-rm, the failed step's container stays for inspection.
    const left = await stack.cm.list({ all: true });
    assert.equal(left.length, 1);
    await stack.cm.remove(left[0].Id as string, { force: true });

    const f = await h.build({ Dockerfile: 'FROM busybox\nRUN false\n' }, { forceRm: true });
    assert.equal(f.error, "The command '/bin/sh -c false' returned a non-zero code: 1");
    assert.equal((await stack.cm.list({ all: true })).length, 0);
    const e = await h.build({ Dockerfile: 'FROM busybox\nRUN ["/bin/false"]\n' }, { forceRm: true });
    assert.equal(e.error, "The command '/bin/false' returned a non-zero code: 1");
    assert.deepEqual(await h.leftovers(), []);
  });

  it('RUN uses the host network by default, and networkmode none when asked', async () => {
    const hostIfaces = (await fs.readdir('/sys/class/net')).filter((n) => n !== 'lo');
    const r = await h.build({ Dockerfile: 'FROM busybox\nRUN ls /sys/class/net\n' }, { noCache: true, forceRm: true });
    assert.equal(r.error, undefined, r.text);
    assert.ok(hostIfaces.some((i) => r.text.includes(`${i}\n`)), `host interfaces in ${r.text}`);
    const n = await h.build({ Dockerfile: 'FROM busybox\nRUN ls /sys/class/net\n' }, { noCache: true, networkMode: 'none', forceRm: true });
    assert.equal(n.error, undefined, n.text);
    assert.ok(!hostIfaces.some((i) => n.text.includes(`${i}\n`)), n.text);
  });

  it('cancelling a build stops and removes the running RUN container and leaves nothing', async () => {
    const ac = new AbortController();
    const seen: string[] = [];
    const before = creates.length;
    const { Readable } = await import('node:stream');
    const { defaultOptions, tarOf } = await import('./harness');
    const prepared = await h.builder.prepare(Readable.from([await tarOf({ Dockerfile: 'FROM busybox\nRUN echo started && sleep 60\n' })]), defaultOptions({ noCache: true }), ac.signal);
    for await (const m of prepared.run(ac.signal)) {
      if ('stream' in m) seen.push(m.stream);
      if ('stream' in m && m.stream.includes('started')) ac.abort();
    }
    assert.equal(creates.length - before, 1);
    assert.ok(seen.some((s) => s.includes('started')));
    assert.ok(!seen.some((s) => s.includes('Successfully built')));
    assert.equal((await stack.cm.list({ all: true })).length, 0, 'the RUN container was removed');
    assert.deepEqual(await h.leftovers(), []);
  });
});
