// The builder's ports over the engine's real modules.

import { isShoalError } from '../../../shared/errors';
import { familiarString, parseRepoTag, type ImageStore } from '../images';
import type { BuildImageStore } from './ports';

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
