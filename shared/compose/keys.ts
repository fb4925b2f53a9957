// Which service keys a swarm honours, ignores with a warning, or refuses, following
// `docker stack deploy` (docker CLI 28).

/** Honoured by a stack deploy. */
export const SUPPORTED_SERVICE_KEYS = [
  'cap_add', 'cap_drop', 'command', 'configs', 'depends_on', 'deploy', 'dns', 'dns_search', 'entrypoint',
  'env_file', 'environment', 'extra_hosts', 'healthcheck', 'hostname', 'image', 'init', 'isolation', 'labels',
  'logging', 'networks', 'oom_score_adj', 'ports', 'read_only', 'secrets', 'stdin_open', 'stop_grace_period',
  'stop_signal', 'sysctls', 'tty', 'ulimits', 'user', 'volumes', 'working_dir',
] as const;

/** Valid in the file, ignored by a swarm: "Ignoring unsupported options". */
export const UNSUPPORTED_SERVICE_KEYS = [
  'build', 'cgroupns_mode', 'cgroup_parent', 'devices', 'domainname', 'external_links', 'ipc', 'links',
  'mac_address', 'network_mode', 'pid', 'privileged', 'restart', 'security_opt', 'shm_size', 'userns_mode',
] as const;

/** Valid in the file, removed from the v3 format: "Ignoring deprecated options". */
export const DEPRECATED_SERVICE_KEYS: Record<string, string> = {
  container_name: 'Setting the container name is not supported.',
  expose: "Exposing ports is unnecessary - services on the same network can access each other's containers on any port.",
};

/** Accepted by the 3.x format but without effect here (Windows-only or local-only). */
export const INERT_SERVICE_KEYS: Record<string, string> = {
  credential_spec: 'credential specs apply to Windows containers only',
  tmpfs: 'service-level tmpfs is not applied by a swarm; use a volume of type tmpfs',
};

/** Refused outright, with what to use instead. */
export const FORBIDDEN_SERVICE_KEYS: Record<string, string> = {
  extends: 'extends is not supported',
  volume_driver: 'set the driver on a top-level volume and mount that volume instead',
  volumes_from: 'define a top-level volume and mount it in each service that shares it',
  cpu_quota: 'set resource limits under deploy.resources',
  cpu_shares: 'set resource limits under deploy.resources',
  cpuset: 'set resource limits under deploy.resources',
  mem_limit: 'set resource limits under deploy.resources',
  memswap_limit: 'set resource limits under deploy.resources',
};

export const SERVICE_KEYS: readonly string[] = [
  ...SUPPORTED_SERVICE_KEYS,
  ...UNSUPPORTED_SERVICE_KEYS,
  ...Object.keys(DEPRECATED_SERVICE_KEYS),
  ...Object.keys(INERT_SERVICE_KEYS),
];
