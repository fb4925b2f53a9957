// The `docker build` scenario of the stock CLI, shared by the test against an assembled API
// server and the one against a whole shoald.

import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { docker } from '../../helpers/docker';
import { writeFiles } from './harness';

export async function writeCliContext(dir: string): Promise<void> {
  await writeFiles(dir, {
    Dockerfile: [
      'FROM busybox AS build',
      'RUN echo compiled > /artifact',
      'FROM busybox',
      'ARG NAME=world',
      'ENV NAME=$NAME',
      'WORKDIR /app',
      'COPY --from=build /artifact ./artifact',
      'COPY run.sh ./',
      'RUN chmod +x run.sh && echo "built for $NAME" > built.txt',
      'CMD ["./run.sh"]',
    ].join('\n'),
    'run.sh': '#!/bin/sh\ncat built.txt artifact\nls /app\n',
    '.dockerignore': 'secret\n',
    secret: 'do not send\n',
  });
}

/** docker build (RUN in containers), docker run of the result, docker history, a cached rebuild. */
export async function buildRunRebuild(host: string, ctx: string): Promise<void> {
  const b = await docker(host, ['build', '-t', 'app:1', '--build-arg', 'NAME=shoal', ctx]);
  assert.equal(b.code, 0, b.stderr + b.stdout);
  assert.match(b.stdout, /Step 1\/10 : FROM busybox AS build/);
  assert.match(b.stdout, / ---> Running in [0-9a-f]{12}/);
  assert.match(b.stdout, /Successfully tagged app:1/);
  const r = await docker(host, ['run', '--rm', '--network', 'none', 'app:1']); // the image, not networking, is under test
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'built for shoal\ncompiled\nartifact\nbuilt.txt\nrun.sh\n');
  const hist = await docker(host, ['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'app:1']);
  // NAME is an ENV by then, so (as in Docker) the RUN records no build args.
  assert.match(hist.stdout, /^\/bin\/sh -c chmod \+x run.sh && echo "built for \$NAME" > built.txt$/m);
  assert.match(hist.stdout, /^\/bin\/sh -c #\(nop\)  ENV NAME=shoal$/m);

  const again = await docker(host, ['build', '-t', 'app:2', '--build-arg', 'NAME=shoal', ctx]);
  assert.equal(again.code, 0, again.stderr);
  assert.doesNotMatch(again.stdout, /Running in/);
  assert.match(again.stdout, /Using cache/);
  const ids = await docker(host, ['image', 'inspect', '--format', '{{.Id}}', 'app:1', 'app:2']);
  const [a, bb] = ids.stdout.trim().split('\n');
  assert.equal(a, bb);
}

/** A bad Dockerfile: the CLI shows the line; no container or image is made. */
export async function badDockerfile(host: string, ctx: string): Promise<void> {
  const bad = join(ctx, 'Dockerfile.bad');
  await fs.writeFile(bad, 'FROM busybox\nRUN true\nFOOBAR x\n');
  const before = await docker(host, ['images', '-a', '-q']);
  const r = await docker(host, ['build', '-f', bad, ctx]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /Dockerfile parse error line 3: unknown instruction: FOOBAR/);
  assert.equal((await docker(host, ['ps', '-a', '-q'])).stdout, '');
  assert.equal((await docker(host, ['images', '-a', '-q'])).stdout, before.stdout);
}
