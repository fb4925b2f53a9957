export { parseMountInfo, readMountInfo, mountsUnder, isMountPoint, type MountEntry } from './mountinfo';
export { overlayMountOptions, mountOverlay, unmountAll, resolveInRoot, prepareInitLayer, ensureMountPoint, MAX_MOUNT_OPTIONS, type OverlayLayout } from './overlay';
