// The builder's ports over the engine's real modules.

import { ShoalError, isShoalError } from '../../../shared/errors';
import type { ContainerManager } from '../containers';
import { familiarString, parseRepoTag, type ImageStore } from '../images';
import type { BuildContainers, BuildImageStore } from './ports';

/** BuildImageStore over the image store. */
export function imageStorePort(store: ImageStore): BuildImageStore {
  return {
    async resolve(ref) {
      const r = await store.resolveForRun(ref);
      return { id: r.id, config: r.config, layerDirs: r.layerDirs };
    },
    async exists(id) {
      return store.get(id) !== undefined;
    },
    commit(req) {
      return store.commitUpperDir({
        upperDir: req.upperDir,
        parentImageId: req.parentImageId,
        config: req.config,
        createdBy: req.createdBy,
        author: req.author,
        emptyLayer: req.emptyLayer,
      });
    },
    normalizeTag(ref) {
      return familiarString(parseRepoTag(ref));
    },
    async tag(imageId, ref) {
      await store.tag(imageId, ref);
    },
    async removeUnused(imageId) {
      const img = store.get(imageId);
      if (!img) return 0;
      if (store.refsOf(imageId).length > 0 || store.children(imageId).length > 0) return undefined;
      const parent = img.record.parent ? store.get(img.record.parent) : undefined;
      // What this image adds over its parent: its own layer, if any.
      const own = Math.max(0, store.size(img) - (parent ? store.size(parent) : 0));
      try {
        await store.remove(imageId, { noprune: true });
      } catch (e) {
        if (isShoalError(e, 'CONFLICT') || isShoalError(e, 'FAILED_PRECONDITION')) return undefined; // a container uses it
        if (isShoalError(e, 'NOT_FOUND')) return 0;
        throw e;
      }
      return own;
    },
  };
}

/** BuildContainers over the container manager: RUN steps are ordinary containers of the engine. */
export function containerManagerPort(cm: ContainerManager): BuildContainers {
  return {
    async create(spec) {
      const { Id } = await cm.create({
        Image: spec.image,
        // [""] clears the image's ENTRYPOINT: a RUN step runs exactly its command.
        Entrypoint: [''],
        Cmd: spec.cmd,
        Env: spec.env,
        WorkingDir: spec.workingDir ?? '',
        User: spec.user ?? '',
        Labels: spec.labels ?? {},
        // The image's HEALTHCHECK is for the finished image, not for its build steps.
        Healthcheck: { Test: ['NONE'] },
        AttachStdout: true,
        AttachStderr: true,
        HostConfig: { ...spec.hostConfig, NetworkMode: spec.networkMode },
      });
      return Id;
    },
    async attach(id, signal) {
      const session = await cm.attach(id, { stdin: false, stdout: true, stderr: true, logs: false, stream: true });
      const onAbort = () => session.close();
      if (signal.aborted) session.close();
      else signal.addEventListener('abort', onAbort, { once: true });
      return (async function* () {
        try {
          for await (const c of session.output()) yield { stream: c.stream === 2 ? ('stderr' as const) : ('stdout' as const), data: c.data };
        } finally {
          signal.removeEventListener('abort', onAbort);
          session.close();
        }
      })();
    },
    async start(id) {
      await cm.start(id);
    },
    async wait(id, signal) {
      if (signal.aborted) throw new ShoalError('CANCELLED', 'wait cancelled');
      return (await cm.wait(id, 'not-running', signal)).StatusCode;
    },
    async kill(id) {
      await cm.kill(id, 'KILL');
    },
    async upperDir(id) {
      return cm.paths.upper(id);
    },
    async remove(id) {
      await cm.remove(id, { force: true, volumes: true });
    },
  };
}
