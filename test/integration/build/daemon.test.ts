// `docker build` with the stock CLI against a real shoald. Until the lead wires the builder
// into the daemon (POST /build answers 404), the suite is skipped.

import { join } from 'node:path';
import { ApiError } from '../../../shared/client';
import { startDaemon, loadBusybox, type TestDaemon } from '../../helpers/daemon';
import { badDockerfile, buildRunRebuild, writeCliContext } from './cli-scenario';

describe('docker build against shoald (stock CLI, classic builder)', function () {
  this.timeout(180_000);
  let d: TestDaemon | undefined;
  let ctx: string;

  before(async function () {
    d = await startDaemon();
    const wired = await d.client.post('/build/prune').then(
      () => true,
      (e: unknown) => !(e instanceof ApiError && e.status === 404),
    );
    if (!wired) {
      await d.destroy();
      d = undefined;
      this.skip();
    }
    await loadBusybox(d!);
    ctx = join(d!.dataRoot, '..', 'ctx');
    await writeCliContext(ctx);
  });

  after(async () => {
    await d?.destroy();
  });

  it('builds, tags, runs and rebuilds from the cache', () => buildRunRebuild(d!.host, ctx));
  it('a bad Dockerfile fails with the line named and leaves no container or image', () => badDockerfile(d!.host, ctx));
});
