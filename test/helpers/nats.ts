// A private nats-server for one test suite: loopback ports chosen free, config in a temp dir,
// run by the real NatsServer under its supervisor. destroy() stops it by PID and removes the dir.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { NatsServer, compileNatsConfig } from '../../manager/nats';
import { silenceLogging } from '../../shared/log';
import { freePort } from './registry';

if (!process.env.SHOAL_TEST_LOG) silenceLogging();

export interface TestNats {
  server: NatsServer;
  url: string;
  /** HOST:PORT other servers route to. */
  routeAddr: string;
  dir: string;
  destroy(): Promise<void>;
}

export async function startTestNats(opts: { name?: string; routes?: string[]; token?: string } = {}): Promise<TestNats> {
  const dir = await fs.mkdtemp(join(tmpdir(), 'shoal-nats-'));
  const routeAddr = `127.0.0.1:${await freePort()}`;
  const config = compileNatsConfig({
    name: opts.name ?? 'n1',
    dataRoot: dir,
    listen: `127.0.0.1:${await freePort()}`,
    clusterListen: routeAddr,
    routes: opts.routes,
    token: opts.token,
  });
  const server = new NatsServer(config, { stopGraceMs: 3000 });
  const t: TestNats = {
    server,
    url: server.url,
    routeAddr,
    dir,
    async destroy() {
      await server.stop();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await server.start();
  } catch (e) {
    await t.destroy();
    throw e;
  }
  return t;
}
