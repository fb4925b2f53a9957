export { VolumeStore, ANONYMOUS_LABEL, validateVolumeName, validateLocalOptions, type VolumeJson, type VolumeRecord, type VolumeCreateRequest } from './store';
