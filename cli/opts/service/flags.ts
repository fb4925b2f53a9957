// The flags of service create and service update, as docker names them. Every flag is left
// undefined by commander unless given, which is how "the user changed it" is told apart from
// a default (docker's flags.Changed): absent flags send nothing, as docker does.
import { Option } from 'commander';
import { list, type ShoalCommand } from '../../program';

/** Flags both create and update take. */
export interface CommonServiceFlags {
  detach?: boolean;
  quiet?: boolean;
  workdir?: string;
  user?: string;
  hostname?: string;
  entrypoint?: string;
  capAdd?: string[];
  capDrop?: string[];
  limitCpu?: string;
  limitMemory?: string;
  limitPids?: string;
  reserveCpu?: string;
  reserveMemory?: string;
  stopGracePeriod?: string;
  replicas?: string;
  maxConcurrent?: string;
  replicasMaxPerNode?: string;
  restartCondition?: string;
  restartDelay?: string;
  restartMaxAttempts?: string;
  restartWindow?: string;
  updateParallelism?: string;
  updateDelay?: string;
  updateMonitor?: string;
  updateFailureAction?: string;
  updateMaxFailureRatio?: string;
  updateOrder?: string;
  rollbackParallelism?: string;
  rollbackDelay?: string;
  rollbackMonitor?: string;
  rollbackFailureAction?: string;
  rollbackMaxFailureRatio?: string;
  rollbackOrder?: string;
  endpointMode?: string;
  withRegistryAuth?: boolean;
  /** false with --no-resolve-image */
  resolveImage?: boolean;
  logDriver?: string;
  logOpt?: string[];
  healthCmd?: string;
  healthInterval?: string;
  healthTimeout?: string;
  healthRetries?: string;
  healthStartPeriod?: string;
  healthStartInterval?: string;
  /** false with --no-healthcheck */
  healthcheck?: boolean;
  tty?: boolean;
  readOnly?: boolean;
  stopSignal?: string;
  isolation?: string;
  init?: boolean;
  oomScoreAdj?: string;
}

/** service create's own flags. */
export interface CreateServiceFlags extends CommonServiceFlags {
  mode?: string;
  name?: string;
  label?: string[];
  containerLabel?: string[];
  env?: string[];
  envFile?: string[];
  mount?: string[];
  constraint?: string[];
  placementPref?: string[];
  network?: string[];
  publish?: string[];
  group?: string[];
  dns?: string[];
  dnsOption?: string[];
  dnsSearch?: string[];
  host?: string[];
  sysctl?: string[];
  ulimit?: string[];
  secret?: string[];
  config?: string[];
}

/** service update's own flags (the -add/-rm forms). */
export interface UpdateServiceFlags extends CommonServiceFlags {
  image?: string;
  args?: string;
  rollback?: boolean;
  force?: boolean;
  labelAdd?: string[];
  labelRm?: string[];
  containerLabelAdd?: string[];
  containerLabelRm?: string[];
  envAdd?: string[];
  envRm?: string[];
  mountAdd?: string[];
  mountRm?: string[];
  constraintAdd?: string[];
  constraintRm?: string[];
  placementPrefAdd?: string[];
  placementPrefRm?: string[];
  networkAdd?: string[];
  networkRm?: string[];
  publishAdd?: string[];
  publishRm?: string[];
  groupAdd?: string[];
  groupRm?: string[];
  dnsAdd?: string[];
  dnsRm?: string[];
  dnsOptionAdd?: string[];
  dnsOptionRm?: string[];
  dnsSearchAdd?: string[];
  dnsSearchRm?: string[];
  hostAdd?: string[];
  hostRm?: string[];
  sysctlAdd?: string[];
  sysctlRm?: string[];
  ulimitAdd?: string[];
  ulimitRm?: string[];
  secretAdd?: string[];
  secretRm?: string[];
  configAdd?: string[];
  configRm?: string[];
}

/** A boolean flag with a hidden --no- form, so that "--flag=false" (docker's syntax) reaches the command. */
function triState(cmd: ShoalCommand, flags: string, description: string): void {
  const long = /--([\w-]+)$/.exec(flags)![1];
  cmd.option(flags, description);
  cmd.addOption(new Option(`--no-${long}`).hideHelp());
}

function addCommonFlags(cmd: ShoalCommand, kind: 'create' | 'update'): void {
  const dflt = (text: string, d: string) => (kind === 'create' ? `${text} (default ${d})` : text);
  cmd
    .option('-d, --detach', 'Exit immediately instead of waiting for the service to converge')
    .option('-q, --quiet', 'Suppress progress output')
    .option('-w, --workdir <string>', 'Working directory inside the container')
    .option('-u, --user <string>', 'Username or UID (format: <name|uid>[:<group|gid>])')
    .option('--hostname <string>', 'Container hostname')
    .option('--entrypoint <command>', 'Overwrite the default ENTRYPOINT of the image')
    .option('--cap-add <list>', 'Add Linux capabilities', list)
    .option('--cap-drop <list>', 'Drop Linux capabilities', list)
    .option('--limit-cpu <decimal>', 'Limit CPUs')
    .option('--limit-memory <bytes>', 'Limit Memory')
    .option('--limit-pids <int>', 'Limit maximum number of processes (default 0 = unlimited)')
    .option('--reserve-cpu <decimal>', 'Reserve CPUs')
    .option('--reserve-memory <bytes>', 'Reserve Memory')
    .option('--stop-grace-period <duration>', dflt('Time to wait before force killing a container (ns|us|ms|s|m|h)', '10s'))
    .option('--replicas <uint>', 'Number of tasks')
    .option('--max-concurrent <uint>', 'Number of job tasks to run concurrently (default equal to --replicas)')
    .option('--replicas-max-per-node <uint>', 'Maximum number of tasks per node (default 0 = unlimited)')
    .option('--restart-condition <string>', dflt('Restart when condition is met ("none", "on-failure", "any")', '"any"'))
    .option('--restart-delay <duration>', dflt('Delay between restart attempts (ns|us|ms|s|m|h)', '5s'))
    .option('--restart-max-attempts <uint>', 'Maximum number of restarts before giving up')
    .option('--restart-window <duration>', 'Window used to evaluate the restart policy (ns|us|ms|s|m|h)')
    .option('--update-parallelism <uint>', dflt('Maximum number of tasks updated simultaneously (0 to update all at once)', '1'))
    .option('--update-delay <duration>', dflt('Delay between updates (ns|us|ms|s|m|h)', '0s'))
    .option('--update-monitor <duration>', dflt('Duration after each task update to monitor for failure (ns|us|ms|s|m|h)', '5s'))
    .option('--update-failure-action <string>', dflt('Action on update failure ("pause", "continue", "rollback")', '"pause"'))
    .option('--update-max-failure-ratio <float>', dflt('Failure rate to tolerate during an update', '0'))
    .option('--update-order <string>', dflt('Update order ("start-first", "stop-first")', '"stop-first"'))
    .option('--rollback-parallelism <uint>', dflt('Maximum number of tasks rolled back simultaneously (0 to roll back all at once)', '1'))
    .option('--rollback-delay <duration>', dflt('Delay between task rollbacks (ns|us|ms|s|m|h)', '0s'))
    .option('--rollback-monitor <duration>', dflt('Duration after each task rollback to monitor for failure (ns|us|ms|s|m|h)', '5s'))
    .option('--rollback-failure-action <string>', dflt('Action on rollback failure ("pause", "continue")', '"pause"'))
    .option('--rollback-max-failure-ratio <float>', dflt('Failure rate to tolerate during a rollback', '0'))
    .option('--rollback-order <string>', dflt('Rollback order ("start-first", "stop-first")', '"stop-first"'))
    .option('--endpoint-mode <string>', dflt('Endpoint mode (vip or dnsrr)', '"vip"'))
    .option('--with-registry-auth', 'Send registry authentication details to swarm agents')
    .option('--no-resolve-image', 'Do not query the registry to resolve image digest and supported platforms')
    .option('--log-driver <string>', 'Logging driver for service')
    .option('--log-opt <list>', 'Logging driver options', list)
    .option('--health-cmd <string>', 'Command to run to check health')
    .option('--health-interval <duration>', 'Time between running the check (ms|s|m|h)')
    .option('--health-retries <int>', 'Consecutive failures needed to report unhealthy')
    .option('--health-start-interval <duration>', 'Time between running the check during the start period (ms|s|m|h)')
    .option('--health-start-period <duration>', 'Start period for the container to initialize before counting retries towards unstable (ms|s|m|h)')
    .option('--health-timeout <duration>', 'Maximum time to allow one check to run (ms|s|m|h)')
    .option('--no-healthcheck', 'Disable any container-specified HEALTHCHECK')
    .option('--stop-signal <string>', 'Signal to stop the container')
    .option('--isolation <string>', 'Service container isolation mode')
    .option('--oom-score-adj <int>', "Tune host's OOM preferences (-1000 to 1000)");
  triState(cmd, '-t, --tty', 'Allocate a pseudo-TTY');
  triState(cmd, '--read-only', "Mount the container's root filesystem as read only");
  triState(cmd, '--init', 'Use an init inside each service container to forward signals and reap processes');
}

/** Register service create's flags on `cmd`. */
export function addCreateFlags(cmd: ShoalCommand): ShoalCommand {
  addCommonFlags(cmd, 'create');
  return cmd
    .option('--mode <string>', 'Service mode ("replicated", "global", "replicated-job", "global-job") (default "replicated")')
    .option('--name <string>', 'Service name')
    .option('-l, --label <list>', 'Service labels', list)
    .option('--container-label <list>', 'Container labels', list)
    .option('-e, --env <list>', 'Set environment variables', list)
    .option('--env-file <list>', 'Read in a file of environment variables', list)
    .option('--mount <mount>', 'Attach a filesystem mount to the service', list)
    .option('--constraint <list>', 'Placement constraints', list)
    .option('--placement-pref <pref>', 'Add a placement preference', list)
    .option('--network <network>', 'Network attachments', list)
    .option('-p, --publish <port>', 'Publish a port as a node port', list)
    .option('--group <list>', 'Set one or more supplementary user groups for the container', list)
    .option('--dns <list>', 'Set custom DNS servers', list)
    .option('--dns-option <list>', 'Set DNS options', list)
    .option('--dns-search <list>', 'Set custom DNS search domains', list)
    .option('--host <list>', 'Set one or more custom host-to-IP mappings (host:ip)', list)
    .option('--sysctl <list>', 'Sysctl options', list)
    .option('--ulimit <ulimit>', 'Ulimit options', list)
    .option('--secret <secret>', 'Specify secrets to expose to the service', list)
    .option('--config <config>', 'Specify configurations to expose to the service', list) as ShoalCommand;
}

/** Register service update's flags on `cmd`. */
export function addUpdateFlags(cmd: ShoalCommand): ShoalCommand {
  addCommonFlags(cmd, 'update');
  const pairs: Array<[string, string, string, string]> = [
    ['label', 'list', 'Add or update a service label', 'Remove a label by its key'],
    ['container-label', 'list', 'Add or update a container label', 'Remove a container label by its key'],
    ['env', 'list', 'Add or update an environment variable', 'Remove an environment variable'],
    ['mount', 'mount', 'Add or update a mount on a service', 'Remove a mount by its target path'],
    ['constraint', 'list', 'Add or update a placement constraint', 'Remove a constraint'],
    ['placement-pref', 'pref', 'Add a placement preference', 'Remove a placement preference'],
    ['network', 'network', 'Add a network', 'Remove a network'],
    ['publish', 'port', 'Add or update a published port', 'Remove a published port by its target port'],
    ['group', 'list', 'Add an additional supplementary user group to the container', 'Remove a previously added supplementary user group from the container'],
    ['dns', 'list', 'Add or update a custom DNS server', 'Remove a custom DNS server'],
    ['dns-option', 'list', 'Add or update a DNS option', 'Remove a DNS option'],
    ['dns-search', 'list', 'Add or update a custom DNS search domain', 'Remove a DNS search domain'],
    ['host', 'list', 'Add a custom host-to-IP mapping ("host:ip")', 'Remove a custom host-to-IP mapping ("host:ip")'],
    ['sysctl', 'list', 'Add or update a Sysctl option', 'Remove a Sysctl option'],
    ['ulimit', 'ulimit', 'Add or update a ulimit option', 'Remove a ulimit option'],
    ['secret', 'secret', 'Add or update a secret on a service', 'Remove a secret'],
    ['config', 'config', 'Add or update a config file on a service', 'Remove a configuration file'],
  ];
  for (const [name, type, add, rm] of pairs) {
    cmd.option(`--${name}-add <${type}>`, add, list);
    cmd.option(`--${name}-rm <list>`, rm, list);
  }
  return cmd
    .option('--image <string>', 'Service image tag')
    .option('--args <command>', 'Service command args')
    .option('--rollback', 'Rollback to previous specification')
    .option('--force', 'Force update even if no changes require it') as ShoalCommand;
}
