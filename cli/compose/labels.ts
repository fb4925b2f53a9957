// docker compose's object names and labels: what ties a container, network or volume to its
// project and service, so that every command after `up` finds them again by label alone.
export const PROJECT_LABEL = 'com.docker.compose.project';
export const SERVICE_LABEL = 'com.docker.compose.service';
export const NUMBER_LABEL = 'com.docker.compose.container-number';
export const ONEOFF_LABEL = 'com.docker.compose.oneoff';
export const HASH_LABEL = 'com.docker.compose.config-hash';
export const IMAGE_LABEL = 'com.docker.compose.image';
export const DEPENDS_LABEL = 'com.docker.compose.depends_on';
export const WORKING_DIR_LABEL = 'com.docker.compose.project.working_dir';
export const CONFIG_FILES_LABEL = 'com.docker.compose.project.config_files';
export const VERSION_LABEL = 'com.docker.compose.version';
export const NETWORK_LABEL = 'com.docker.compose.network';
export const VOLUME_LABEL = 'com.docker.compose.volume';

/** The compose version the labels claim (the file format they follow). */
export const COMPOSE_VERSION = '2.29.0';

/** `<project>-<service>-<n>`, compose v2's container name. */
export function containerName(project: string, service: string, n: number): string {
  return `${project}-${service}-${n}`;
}

/** `<project>_<key>`: networks and volumes the project owns. */
export function scopedName(project: string, key: string): string {
  return `${project}_${key}`;
}

/** The name without `<project>-`, as compose prefixes log lines ("web-1"). */
export function shortContainerName(project: string, name: string): string {
  const n = name.replace(/^\//, '');
  return n.startsWith(`${project}-`) ? n.slice(project.length + 1) : n;
}

/** The label filter (for GET /containers/json and friends) selecting the project's objects. */
export function projectFilter(project: string, extra: string[] = []): string {
  return JSON.stringify({ label: [`${PROJECT_LABEL}=${project}`, ...extra] });
}
