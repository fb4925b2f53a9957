// `docker build` with the stock CLI against a real shoald. Until the lead wires the builder
// into the daemon (POST /build answers 404), the suite is skipped.

import { join } from 'node:path';
import { ApiError } from '../../../shared/client';
import { run } from '../../../shared/exec';
import { startDaemon, loadBusybox, type TestDaemon } from '../../helpers/daemon';
import { badDockerfile, buildRunRebuild, writeCliContext } from './cli-scenario';

describe('docker build against shoald (stock CLI, classic builder)', function () {
  this.timeout(180_000);
  let d: TestDaemon | undefined;
  let ctx: string;

  /** The daemon leaves its bridge (as dockerd leaves docker0); this test removes what it made. */
  async function destroy(): Promise<void> {
    if (!d) return;
    const bridge = d.bridge;
    await d.destroy();
    d = undefined;
    await run('ip', ['link', 'del', bridge], { okCodes: [0, 1] }).catch(() => undefined);
    await run('nft', ['delete', 'table', 'ip', `shoal_${bridge}`], { okCodes: [0, 1] }).catch(() => undefined);
  }

  before(async function () {
    d = await startDaemon();
    const wired = await d.client.post('/build/prune').then(
      () => true,
      (e: unknown) => !(e instanceof ApiError && e.status === 404),
    );
    if (!wired) {
      await destroy();
      this.skip();
    }
    await loadBusybox(d!);
    ctx = join(d!.dataRoot, '..', 'ctx');
    await writeCliContext(ctx);
  });

  after(destroy);

  it('builds, tags, runs and rebuilds from the cache', () => buildRunRebuild(d!.host, ctx));
  it('a bad Dockerfile fails with the line named and leaves no container or image', () => badDockerfile(d!.host, ctx));
});
