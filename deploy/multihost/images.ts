// The lab's test image: busybox built by deploy/images/busybox-rootfs.sh, imported into each
// host's shoald, and pushed into the lab registry.
import { createReadStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { EngineClient } from '../../shared/client';
import { run } from '../../shared/exec';
import { errorMessage, unavailable } from '../../shared/errors';

export const REPO_ROOT = resolve(__dirname, '../../..');
const RECIPE = join(REPO_ROOT, 'deploy/images/busybox-rootfs.sh');

/** Build the busybox rootfs tar into `path` (the recipe copies Debian's busybox-static). */
export async function buildBusyboxTar(path: string): Promise<void> {
  await run(RECIPE, [path], { errorCode: 'UNAVAILABLE' });
}

/** Fail on the first error message in a progress stream (import, push). */
async function drain(stream: AsyncIterable<Record<string, unknown>>, what: string): Promise<void> {
  for await (const m of stream) {
    const err = (m.errorDetail as { message?: string } | undefined)?.message ?? m.error;
    if (err) throw unavailable(`${what}: ${String(err)}`);
  }
}

/** POST /images/create?fromSrc=- with the tar as `repo:tag`. */
export async function importImage(client: EngineClient, tar: string, repo: string, tag = 'latest'): Promise<void> {
  const body = createReadStream(tar);
  try {
    await drain(client.jsonStream('POST', '/images/create', { query: { fromSrc: '-', repo, tag }, body, headers: { 'Content-Type': 'application/x-tar' } }), `import ${repo}:${tag}`);
  } catch (e) {
    throw unavailable(`cannot import ${repo}:${tag} into ${client.host}: ${errorMessage(e)}`, e);
  } finally {
    body.destroy();
  }
}

/** Tag `source` as `<domain>/<name>:<tag>` and push it; the daemon reaches the registry over http (insecure-registries). */
export async function pushImage(client: EngineClient, source: string, target: string, tag = 'latest'): Promise<void> {
  await client.post(`/images/${source}/tag`, { query: { repo: target, tag } });
  // docker sends an (empty) auth header on every push; an anonymous registry ignores it.
  const auth = Buffer.from('{}').toString('base64url');
  await drain(client.jsonStream('POST', `/images/${target}/push`, { query: { tag }, headers: { 'X-Registry-Auth': auth } }), `push ${target}:${tag}`);
}

