export { parseMountInfo, readMountInfo, mountsUnder, isMountPoint, isOverlayMounted, type MountEntry } from './mountinfo';
export { overlayMountOptions, mountOverlay, unmountAll, resolveInRoot, prepareInitLayer, ensureMountPoint, MAX_MOUNT_OPTIONS, type OverlayLayout } from './overlay';
