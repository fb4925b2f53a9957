// The stock docker CLI against an API server assembled from the real engine modules (image
// store, volumes, networks, container manager, builder): docker build with RUN, docker run.

import { join } from 'node:path';
import { ApiServer, Router } from '../../../shared/api';
import { logger } from '../../../shared/log';
import { registerSystemRoutes } from '../../../worker/api/system';
import { registerImageRoutes } from '../../../worker/api/images';
import { registerContainerRoutes } from '../../../worker/api/containers';
import { registerNetworkRoutes } from '../../../worker/api/networks';
import { registerBuildRoutes } from '../../../worker/api/build';
import { containerManagerPort } from '../../../worker/engine/build';
import { EngineClient } from '../../../shared/client';
import { eventually, makeStack, type Stack } from '../containers/fixture';
import { BuildHarness, tarOf } from './harness';
import assert from 'node:assert/strict';
import { badDockerfile, buildRunRebuild, writeCliContext } from './cli-scenario';

describe('docker build with RUN through the API (engine modules assembled in the test)', function () {
  this.timeout(180_000);
  let stack: Stack;
  let server: ApiServer;
  let host: string;
  let ctx: string;
  let h: BuildHarness;

  before(async () => {
    stack = await makeStack();
    h = await BuildHarness.open(containerManagerPort(stack.cm), join(stack.base, 'buildcli'), stack.images, stack.events);
    const router = new Router();
    registerSystemRoutes(router, { config: stack.config, events: stack.events, info: async () => ({}) });
    registerImageRoutes(router, { images: stack.images, events: stack.events });
    registerContainerRoutes(router, { containers: stack.cm });
    registerNetworkRoutes(router, { networks: stack.networks });
    registerBuildRoutes(router, { builder: h.builder });
    server = new ApiServer(router, logger('test'));
    const sock = join(stack.base, 'api.sock');
    await server.listen([{ kind: 'unix', address: sock }]);
    host = `unix://${sock}`;
    ctx = join(stack.base, 'ctx');
    await writeCliContext(ctx);
  });

  after(async () => {
    await server?.close();
    await stack?.destroy();
  });

  it('builds, tags, runs and rebuilds from the cache', () => buildRunRebuild(host, ctx));
  it('a bad Dockerfile fails with the line named and leaves no container or image', () => badDockerfile(host, ctx));

  it('a client that goes away mid-RUN cancels the build: the step container is removed', async () => {
    const client = new EngineClient(host);
    const ac = new AbortController();
    try {
      const body = await tarOf({ Dockerfile: 'FROM busybox\nRUN echo started && sleep 120\n' });
      const res = await client.raw('POST', '/build', { query: { nocache: 1 }, body, signal: ac.signal });
      let seen = '';
      for await (const chunk of res.stream as AsyncIterable<Buffer>) {
        seen += chunk.toString();
        if (seen.includes('{"stream":"started\\n"}')) break;
      }
      assert.match(seen, / ---> Running in [0-9a-f]{12}/);
      assert.equal((await stack.cm.list({ all: true })).length, 1, 'the RUN step is running');
      ac.abort();
      res.stream.destroy();
    } finally {
      ac.abort();
      client.close();
    }
    assert.ok(await eventually(async () => (await stack.cm.list({ all: true })).length === 0, 20_000), 'the step container was removed');
    assert.ok(await eventually(async () => (await h.leftovers()).length === 0, 10_000), 'the build temp dir was removed');
  });
});
