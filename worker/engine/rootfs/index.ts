export { parseMountInfo, readMountInfo, mountsUnder, isMountPoint, isOverlayMounted, type MountEntry } from './mountinfo';
export { overlayMountOptions, mountOverlay, unmountAll, unmountOne, resolveInRoot, prepareInitLayer, ensureMountPoint, MAX_MOUNT_OPTIONS, type OverlayLayout } from './overlay';
