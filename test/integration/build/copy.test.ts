// Builds without RUN steps against the real image store: COPY/ADD semantics, metadata
// instructions, multi-stage, .dockerignore, the cache, and bad input leaving nothing behind.

import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import { create as tarCreate } from 'tar';
import { isShoalError } from '../../../shared/errors';
import { BuildHarness, defaultOptions, tarOf, writeFiles } from './harness';

async function tarFileOf(files: Record<string, string>, gzip: boolean): Promise<Buffer> {
  const dir = await fs.mkdtemp(join(tmpdir(), 'shoal-addtar-'));
  try {
    await writeFiles(dir, files);
    const chunks: Buffer[] = [];
    for await (const c of tarCreate({ cwd: dir, gzip, portable: true }, (await fs.readdir(dir)).sort()) as unknown as AsyncIterable<Buffer>) chunks.push(c);
    return Buffer.concat(chunks);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

describe('build: COPY, ADD and metadata (real image store)', function () {
  this.timeout(120_000);
  let h: BuildHarness;

  before(async () => {
    h = await BuildHarness.open();
  });
  after(async () => {
    await h?.close();
  });

  it('builds an image with the config, history and files Docker would make', async () => {
    const vendorTar = await tarFileOf({ 'vendor/lib.txt': 'lib\n', 'vendor/sub/deep.txt': 'deep\n' }, false);
    const assetsTgz = await tarFileOf({ 'assets/logo.txt': 'logo\n' }, true);
    const r = await h.build(
      {
        Dockerfile: [
          'FROM busybox',
          'LABEL org.example.name="demo app" version=1',
          'ENV APP_HOME=/srv/app \\',
          '    GREETING="hello world"',
          'WORKDIR $APP_HOME',
          'COPY app.sh config/ ./',
          'COPY --chown=www-data:www-data --chmod=640 secret.txt /etc/app/',
          'ADD vendor.tar /opt/',
          'ADD assets.tgz /opt/',
          'ADD notes.txt.gz /opt/',
          'COPY data/*.csv ${APP_HOME}/data/',
          'USER www-data',
          'EXPOSE 8080 9000-9001/udp',
          'VOLUME /srv/app/data',
          'STOPSIGNAL SIGINT',
          'HEALTHCHECK --interval=5s --retries=2 CMD test -f /srv/app/app.sh',
          'ENTRYPOINT ["/srv/app/app.sh"]',
          'CMD ["serve"]',
          'MAINTAINER Jane Doe',
        ].join('\n'),
        'app.sh': { content: '#!/bin/sh\necho app\n', mode: 0o755, mtime: new Date('2020-01-02T03:04:05Z') },
        'config/app.conf': 'port=8080\n',
        'config/nested/x.conf': 'x\n',
        'secret.txt': 's3cret\n',
        'vendor.tar': { content: vendorTar },
        'assets.tgz': { content: assetsTgz },
        'notes.txt.gz': { content: Buffer.from('not really gzip') },
        'data/a.csv': '1,2\n',
        'data/b.csv': '3,4\n',
        'data/skip.txt': 'no\n',
      },
      { tags: ['demo:1', 'demo'] },
    );
    assert.equal(r.error, undefined, r.text);
    assert.ok(r.id);
    assert.match(r.text, /^Step 1\/18 : FROM busybox\n ---> [0-9a-f]{12}\nStep 2\/18 : LABEL org.example.name="demo app" version=1\n/);
    assert.match(r.text, /Successfully built [0-9a-f]{12}\nSuccessfully tagged demo:1\nSuccessfully tagged demo:latest\n$/);

    const inspect = h.images.inspect('demo:latest') as { Id: string; Author: string; Config: Record<string, unknown> };
    assert.equal(inspect.Id, r.id);
    assert.equal(h.images.resolve('demo:1').id, r.id);
    const c = inspect.Config;
    assert.deepEqual(c.Env, ['APP_HOME=/srv/app', 'GREETING=hello world']);
    assert.equal(c.WorkingDir, '/srv/app');
    assert.equal(c.User, 'www-data');
    assert.deepEqual(c.Labels, { 'org.example.name': 'demo app', version: '1' });
    assert.deepEqual(c.ExposedPorts, { '8080/tcp': {}, '9000/udp': {}, '9001/udp': {} });
    assert.deepEqual(c.Volumes, { '/srv/app/data': {} });
    assert.equal(c.StopSignal, 'SIGINT');
    assert.deepEqual(c.Healthcheck, { Test: ['CMD-SHELL', 'test -f /srv/app/app.sh'], Interval: 5e9, Retries: 2 });
    assert.deepEqual(c.Entrypoint, ['/srv/app/app.sh']);
    assert.deepEqual(c.Cmd, ['serve']);
    assert.equal(inspect.Author, 'Jane Doe');

    // Files: WORKDIR-relative COPY, directory contents, modes, mtimes, owners, --chmod.
    assert.equal(await h.readFile('demo', 'srv/app/app.sh'), '#!/bin/sh\necho app\n');
    const app = (await h.stat('demo', 'srv/app/app.sh'))!;
    assert.equal(app.mode & 0o7777, 0o755);
    assert.equal(app.mtime.toISOString(), '2020-01-02T03:04:05.000Z');
    assert.equal(app.uid, 0);
    assert.equal(await h.readFile('demo', 'srv/app/app.conf'), 'port=8080\n');
    assert.equal(await h.readFile('demo', 'srv/app/nested/x.conf'), 'x\n');
    const secret = (await h.stat('demo', 'etc/app/secret.txt'))!;
    assert.equal(secret.uid, 33);
    assert.equal(secret.gid, 33);
    assert.equal(secret.mode & 0o777, 0o640);
    // ADD extracts local tars (plain and gzip), and copies a file that only looks compressed.
    assert.equal(await h.readFile('demo', 'opt/vendor/lib.txt'), 'lib\n');
    assert.equal(await h.readFile('demo', 'opt/vendor/sub/deep.txt'), 'deep\n');
    assert.equal(await h.readFile('demo', 'opt/assets/logo.txt'), 'logo\n');
    assert.equal(await h.readFile('demo', 'opt/notes.txt.gz'), 'not really gzip');
    assert.equal(await h.readFile('demo', 'srv/app/data/a.csv'), '1,2\n');
    assert.equal(await h.readFile('demo', 'srv/app/data/b.csv'), '3,4\n');
    assert.equal(await h.stat('demo', 'srv/app/data/skip.txt'), undefined);
    // The base image's /etc keeps its metadata under the new layer.
    const etc = (await h.stat('demo', 'etc'))!;
    assert.equal(etc.mode & 0o7777, 0o755);

    // History: one entry per step; metadata steps are empty layers; Docker's created_by text.
    const hist = h.images.history('demo') as Array<{ CreatedBy: string; Size: number }>;
    const own = hist.slice(0, 17).reverse(); // newest first in `docker history`
    assert.equal(own[0].CreatedBy, '/bin/sh -c #(nop)  LABEL org.example.name=demo app version=1');
    assert.equal(own[1].CreatedBy, '/bin/sh -c #(nop)  ENV APP_HOME=/srv/app GREETING=hello world');
    assert.equal(own[2].CreatedBy, '/bin/sh -c #(nop) WORKDIR /srv/app');
    assert.match(own[3].CreatedBy, /^\/bin\/sh -c #\(nop\) COPY multi:[0-9a-f]{64} in \/srv\/app\/ $/);
    assert.match(own[4].CreatedBy, /^\/bin\/sh -c #\(nop\) COPY --chown=www-data:www-data --chmod=640 file:[0-9a-f]{64} in \/etc\/app\/ $/);
    assert.equal(own[11].CreatedBy, '/bin/sh -c #(nop)  VOLUME [/srv/app/data]');
    assert.equal(own[13].CreatedBy, '/bin/sh -c #(nop)  HEALTHCHECK &{["CMD-SHELL" "test -f /srv/app/app.sh"] "5s" "0s" "0s" "0s" \'\\x02\'}');
    assert.equal(own[14].CreatedBy, '/bin/sh -c #(nop)  ENTRYPOINT ["/srv/app/app.sh"]');
    assert.equal(own[15].CreatedBy, '/bin/sh -c #(nop)  CMD ["serve"]');
    assert.equal(own[16].CreatedBy, '/bin/sh -c #(nop)  MAINTAINER Jane Doe');
    assert.deepEqual(await h.leftovers(), []);
  });

  it('rebuilds from the cache to the same image ID; a changed file invalidates from its step on', async () => {
    const files = {
      Dockerfile: 'FROM busybox\nENV A=1\nCOPY a.txt /a.txt\nCOPY b.txt /b.txt\nCMD ["cat", "/a.txt"]\n',
      'a.txt': 'one\n',
      'b.txt': 'two\n',
    };
    const first = await h.build(files);
    assert.equal(first.error, undefined, first.text);
    const imagesBefore = h.images.list().length;
    const second = await h.build(files);
    assert.equal(second.id, first.id);
    assert.equal(second.text.match(/ ---> Using cache\n/g)?.length, 4);
    assert.equal(h.images.list().length, imagesBefore, 'a cached rebuild makes no image');

    const changed = await h.build({ ...files, 'b.txt': 'TWO\n' });
    assert.notEqual(changed.id, first.id);
    // ENV and the first COPY come from the cache; the changed COPY and everything after do not.
    const steps = changed.text.split(/(?=Step \d+\/5)/);
    assert.equal(steps.length, 5);
    assert.match(steps[1], /^Step 2\/5 : ENV A=1\n ---> Using cache\n/);
    assert.match(steps[2], /^Step 3\/5 : COPY a.txt \/a.txt\n ---> Using cache\n/);
    assert.doesNotMatch(steps[3], /Using cache/);
    assert.doesNotMatch(steps[4], /Using cache/);
    assert.equal(await h.readFile(changed.id!, 'b.txt'), 'TWO\n');

    // nocache builds everything again.
    const fresh = await h.build(files, { noCache: true });
    assert.doesNotMatch(fresh.text, /Using cache/);
    assert.notEqual(fresh.id, first.id);
  });

  it('multi-stage: COPY --from by name and index, --target, only the target is tagged', async () => {
    const files = {
      Dockerfile: [
        'ARG BASE=busybox',
        'FROM ${BASE} AS base',
        'COPY a.txt /built/a.txt',
        'FROM base AS middle',
        'COPY b.txt /built/b.txt',
        'FROM scratch',
        'COPY --from=middle /built /out',
        'COPY --from=0 /built/a.txt /again.txt',
        'COPY --from=busybox /etc/passwd /passwd',
      ].join('\n'),
      'a.txt': 'A\n',
      'b.txt': 'B\n',
    };
    const r = await h.build(files, { tags: ['multi:final'] });
    assert.equal(r.error, undefined, r.text);
    assert.equal(r.messages.filter((m) => 'aux' in m).length, 3);
    assert.equal(await h.readFile('multi:final', 'out/a.txt'), 'A\n');
    assert.equal(await h.readFile('multi:final', 'out/b.txt'), 'B\n');
    assert.equal(await h.readFile('multi:final', 'again.txt'), 'A\n');
    assert.match((await h.readFile('multi:final', 'passwd'))!, /^root:x:0:0/);
    assert.equal(h.images.layerDirs('multi:final').length, 3, 'FROM scratch: only the final stage\'s layers');

    const t = await h.build(files, { tags: ['multi:middle'], target: 'middle' });
    assert.equal(t.error, undefined, t.text);
    assert.match(t.text, /Step 5\/5 : COPY b.txt/);
    assert.equal(await h.readFile('multi:middle', 'built/b.txt'), 'B\n');
    assert.equal(await h.stat('multi:middle', 'out'), undefined);
    assert.notEqual(h.images.resolve('multi:middle').id, h.images.resolve('multi:final').id);
  });

  it('applies .dockerignore with ** and ! exceptions', async () => {
    const r = await h.build({
      Dockerfile: 'FROM busybox\nCOPY . /ctx/\n',
      '.dockerignore': '# comment\n**/*.log\nsecrets\n!secrets/public.pem\nDockerfile\n',
      'keep.txt': 'k\n',
      'debug.log': 'x\n',
      'deep/er/trace.log': 'x\n',
      'deep/er/ok.txt': 'ok\n',
      'secrets/private.pem': 'p\n',
      'secrets/public.pem': 'pub\n',
    }, { tags: ['ign'] });
    assert.equal(r.error, undefined, r.text);
    assert.equal(await h.readFile('ign', 'ctx/keep.txt'), 'k\n');
    assert.equal(await h.readFile('ign', 'ctx/deep/er/ok.txt'), 'ok\n');
    assert.equal(await h.readFile('ign', 'ctx/secrets/public.pem'), 'pub\n');
    assert.equal(await h.stat('ign', 'ctx/debug.log'), undefined);
    assert.equal(await h.stat('ign', 'ctx/deep/er/trace.log'), undefined);
    assert.equal(await h.stat('ign', 'ctx/secrets/private.pem'), undefined);
    // The Dockerfile was read, then dropped from the context because .dockerignore names it.
    assert.equal(await h.stat('ign', 'ctx/Dockerfile'), undefined);
    assert.ok(await h.stat('ign', 'ctx/.dockerignore'));
  });

  it('follows the image\'s symlinks for destinations and refuses paths outside the context', async () => {
    const r = await h.build(
      {
        Dockerfile: 'FROM busybox\nCOPY tree/ /\nCOPY tool /app/bin/\n',
        'tree/app': { symlink: 'opt/real' },
        'tree/opt/real/.keep': '',
        tool: { content: 'x', mode: 0o755 },
      },
      { tags: ['sym'] },
    );
    assert.equal(r.error, undefined, r.text);
    assert.ok((await h.stat('sym', 'app'))!.isSymbolicLink(), 'the symlink is copied as a symlink');
    assert.equal(await h.readFile('sym', 'opt/real/bin/tool'), 'x');

    const bad = await h.build({ Dockerfile: 'FROM busybox\nCOPY ../etc/passwd /x\n' });
    assert.match(bad.error!, /forbidden path outside the build context: \.\.\/etc\/passwd/);
    const missing = await h.build({ Dockerfile: 'FROM busybox\nCOPY nope.txt /x\n' });
    assert.equal(missing.error, 'COPY failed: file not found in build context or excluded by .dockerignore: stat nope.txt: file does not exist');
    const none = await h.build({ Dockerfile: 'FROM busybox\nCOPY *.nothing /x/\n' });
    assert.equal(none.error, 'COPY failed: no source files were specified');
    const multi = await h.build({ Dockerfile: 'FROM busybox\nCOPY a b /x\n', a: '1', b: '2' });
    assert.equal(multi.error, 'When using COPY with more than one source file, the destination must be a directory and end with a /');
    const user = await h.build({ Dockerfile: 'FROM busybox\nCOPY --chown=nobody:nosuchgroup a /x\n', a: '1' });
    assert.match(user.error!, /can't find gid for group nosuchgroup/);
    assert.deepEqual(await h.leftovers(), []);
  });

  it('expands build args in FROM and in steps; reports unused ones', async () => {
    const r = await h.build(
      { Dockerfile: 'ARG IMG=nothing\nFROM $IMG\nARG IMG\nARG DIR=/default\nENV WHERE=${DIR}/x FROMIMG=$IMG\n' },
      { buildArgs: { IMG: 'busybox', DIR: '/given', EXTRA: 'x' }, tags: ['args'] },
    );
    assert.equal(r.error, undefined, r.text);
    assert.deepEqual((h.images.inspect('args') as { Config: { Env: string[] } }).Config.Env, ['WHERE=/given/x', 'FROMIMG=busybox']);
    assert.match(r.text, /\[Warning\] One or more build-args \[EXTRA\] were not consumed\n/);
  });

  it('bad input is a 400 naming the line and leaves nothing behind', async () => {
    const before = h.images.list().length;
    const cases: Array<[Record<string, string> | Buffer, RegExp, Partial<Parameters<typeof defaultOptions>[0]>?]> = [
      [{ Dockerfile: 'FROM busybox\nRUN true\nFOOBAR baz\n', 'x.txt': 'x' }, /^Dockerfile parse error line 3: unknown instruction: FOOBAR$/],
      [{ Dockerfile: 'FROM busybox\nADD https://example.com/x.tgz /x\n' }, /^Dockerfile parse error line 2: ADD failed: https:\/\/example.com\/x.tgz is a URL/],
      [{ 'other.txt': 'x' }, /^Cannot locate specified Dockerfile: Dockerfile$/],
      [{ Dockerfile: '' }, /cannot be empty/],
      [{ Dockerfile: 'FROM busybox\n' }, /^failed to reach build target nope in Dockerfile$/, { target: 'nope' }],
      [{ Dockerfile: 'FROM busybox\n' }, /invalid reference format|repository name/i, { tags: ['UPPER/case'] }],
      [Buffer.concat([Buffer.alloc(512, 0x41), Buffer.from('garbage')]), /Dockerfile parse error line 1: unknown instruction/],
    ];
    for (const [files, re, over] of cases) {
      const body = Buffer.isBuffer(files) ? files : await tarOf(files);
      await assert.rejects(
        h.builder.prepare(Readable.from([body]), defaultOptions(over ?? {}), new AbortController().signal),
        (e: unknown) => isShoalError(e, 'INVALID_ARGUMENT') && re.test((e as Error).message),
      );
    }
    assert.equal(h.images.list().length, before);
    assert.deepEqual(await h.leftovers(), []);
  });

  it('takes a gzip-compressed context and a bare Dockerfile body', async () => {
    const gz = await tarOf({ Dockerfile: 'FROM busybox\nCOPY f /f\n', f: 'gz\n' }, { gzip: true });
    const r = await h.build(gz, { tags: ['gz'] });
    assert.equal(r.error, undefined, r.text);
    assert.equal(await h.readFile('gz', 'f'), 'gz\n');
    const bare = await h.build(Buffer.from('FROM busybox\nLABEL bare=yes\n'), { tags: ['bare'] });
    assert.equal(bare.error, undefined, bare.text);
    assert.deepEqual((h.images.inspect('bare') as { Config: { Labels: unknown } }).Config.Labels, { bare: 'yes' });
  });

  it('ONBUILD triggers run in the child build; SHELL changes shell-form commands', async () => {
    const base = await h.build({ Dockerfile: 'FROM busybox\nONBUILD COPY trigger.txt /trigger.txt\nONBUILD LABEL child=yes\nSHELL ["/bin/ash", "-c"]\nCMD echo hi\n' }, { tags: ['onbuild-base'] });
    assert.equal(base.error, undefined, base.text);
    const bc = (h.images.inspect('onbuild-base') as { Config: Record<string, unknown> }).Config;
    assert.deepEqual(bc.OnBuild, ['COPY trigger.txt /trigger.txt', 'LABEL child=yes']);
    assert.deepEqual(bc.Shell, ['/bin/ash', '-c']);
    assert.deepEqual(bc.Cmd, ['/bin/ash', '-c', 'echo hi']);
    const child = await h.build({ Dockerfile: 'FROM onbuild-base\nENV X=1\n', 'trigger.txt': 'triggered\n' }, { tags: ['onbuild-child'] });
    assert.equal(child.error, undefined, child.text);
    assert.match(child.text, /# Executing 2 build triggers\n/);
    assert.equal(await h.readFile('onbuild-child', 'trigger.txt'), 'triggered\n');
    const cc = (h.images.inspect('onbuild-child') as { Config: Record<string, unknown> }).Config;
    assert.deepEqual(cc.Labels, { child: 'yes' });
    assert.ok(!cc.OnBuild || (cc.OnBuild as string[]).length === 0, 'triggers do not carry on to grandchildren');
  });

  it('with q only the final ID is printed', async () => {
    const r = await h.build({ Dockerfile: 'FROM busybox\nLABEL q=1\n' }, { quiet: true });
    const streams = r.messages.filter((m) => 'stream' in m);
    assert.equal(streams.length, 1);
    assert.equal((streams[0] as { stream: string }).stream, `${r.id}\n`);
  });

  it('build prune drops the cache and the images only the cache kept', async () => {
    const files = { Dockerfile: 'FROM busybox\nCOPY p.txt /p.txt\nLABEL prune=me\n', 'p.txt': 'prune\n' };
    const r = await h.build(files);
    assert.ok(h.images.get(r.id!));
    const res = await h.builder.prune();
    assert.ok(res.CachesDeleted.length > 0);
    assert.ok(res.SpaceReclaimed > 0);
    assert.equal(h.images.get(r.id!), undefined, 'the untagged build result is gone');
    assert.ok(h.images.resolve('demo:latest'), 'tagged images stay');
    assert.ok(h.images.resolve('busybox'), 'base images stay');
    const again = await h.build(files);
    assert.doesNotMatch(again.text, /Using cache/);
  });
});
