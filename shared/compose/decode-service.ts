// One service of a stack file: validated and turned into the model, every error recorded.
import { parseConstraint } from '../swarm/constraints';
import { parseNanoCpus } from '../units';
import type {
  ContainerSpec,
  GenericResource,
  HealthConfig,
  Placement,
  RestartPolicy,
  ServiceMode,
  TaskResources,
  UpdateConfig,
  Ulimit,
  PortProtocol,
  PublishMode,
  BindPropagation,
} from '../swarm/types';
import {
  DEPRECATED_SERVICE_KEYS,
  FORBIDDEN_SERVICE_KEYS,
  INERT_SERVICE_KEYS,
  SERVICE_KEYS,
  UNSUPPORTED_SERVICE_KEYS,
} from './keys';
import type { FileRefModel, ServiceModel, ServiceNetworkModel } from './model';
import { MOUNT_TYPES, PROPAGATIONS, parseVolumeSpec, type VolumeMountSpec } from './mounts';
import { child, isPMap, isPScalar, isPSeq, type PNode } from './node';
import { PROTOCOLS, parsePortSpec } from './ports';
import type { Reader } from './reader';
import { splitShellWords } from './shellwords';
import type { StackWarning } from './warnings';

const NAME_RE = /^[a-zA-Z0-9._-]+$/;

export function decodeService(r: Reader, name: string, keyPos: PNode['pos'], node: PNode, warn: (w: StackWarning) => void): ServiceModel | undefined {
  const path = `services.${name}`;
  if (!NAME_RE.test(name)) r.error(keyPos, `${path}: a service name may only contain letters, digits, '.', '_' and '-'`);
  if (isPMap(node)) {
    for (const [key, e] of node.entries) {
      if (FORBIDDEN_SERVICE_KEYS[key]) r.error(e.keyPos, `${path}: '${key}' is not supported in a stack: ${FORBIDDEN_SERVICE_KEYS[key]}`);
    }
  }
  const m = r.map(node, path, [...SERVICE_KEYS, ...Object.keys(FORBIDDEN_SERVICE_KEYS)], { extensions: true });
  if (!m) return undefined;
  for (const [key, e] of m.entries) {
    if ((UNSUPPORTED_SERVICE_KEYS as readonly string[]).includes(key)) {
      warn({ kind: 'unsupported', service: name, key, pos: e.keyPos, message: `service ${name}: ignoring unsupported option '${key}'` });
    } else if (DEPRECATED_SERVICE_KEYS[key]) {
      warn({ kind: 'deprecated', service: name, key, pos: e.keyPos, message: `service ${name}: ignoring deprecated option '${key}': ${DEPRECATED_SERVICE_KEYS[key]}` });
    } else if (INERT_SERVICE_KEYS[key]) {
      warn({ kind: 'ignored', service: name, key, pos: e.keyPos, message: `service ${name}: ignoring '${key}': ${INERT_SERVICE_KEYS[key]}` });
    }
  }
  const get = (k: string) => child(m, k);
  const p = (k: string) => `${path}.${k}`;

  const container: ContainerSpec = {};
  if (get('image') === undefined) r.error(keyPos, `${path}: no image specified`);
  const image = r.str(get('image'), p('image'));
  if (image !== undefined) {
    container.Image = image;
    if (!/^[a-zA-Z0-9][a-zA-Z0-9._/:@-]*$/.test(image) || /[A-Z]/.test(image.split(/[:@]/)[0].split('/').slice(-1)[0]))
      r.error(get('image')!, `${p('image')}: '${image}' is not a valid image reference`);
  }
  const entrypoint = command(r, get('entrypoint'), p('entrypoint'));
  if (entrypoint) container.Command = entrypoint;
  const cmd = command(r, get('command'), p('command'));
  if (cmd) container.Args = cmd;
  setIf(container, 'Hostname', r.str(get('hostname'), p('hostname')));
  setIf(container, 'User', r.str(get('user'), p('user')));
  setIf(container, 'Dir', r.str(get('working_dir'), p('working_dir')));
  setIf(container, 'StopGracePeriod', r.duration(get('stop_grace_period'), p('stop_grace_period')));
  setIf(container, 'StopSignal', r.str(get('stop_signal'), p('stop_signal')));
  // docker leaves these out of the spec when false.
  if (r.bool(get('tty'), p('tty'))) container.TTY = true;
  if (r.bool(get('stdin_open'), p('stdin_open'))) container.OpenStdin = true;
  if (r.bool(get('read_only'), p('read_only'))) container.ReadOnly = true;
  setIf(container, 'Init', r.bool(get('init'), p('init')));
  setIf(container, 'OomScoreAdj', r.int(get('oom_score_adj'), p('oom_score_adj'), -1000, 1000));
  const isolation = r.oneOf(get('isolation'), p('isolation'), ['default', 'process', 'hyperv'] as const);
  if (isolation) container.Isolation = isolation;
  const hosts = r.listOrDict(get('extra_hosts'), p('extra_hosts'), ':');
  if (hosts) {
    container.Hosts = Object.entries(hosts).map(([host, ip]) => `${(ip ?? '').replace(/^\[(.*)\]$/, '$1')} ${host}`);
    if (Object.values(hosts).some((ip) => !ip)) r.error(get('extra_hosts')!, `${p('extra_hosts')}: each entry must be host:address`);
  }
  const dns = r.stringOrList(get('dns'), p('dns'));
  const dnsSearch = r.stringOrList(get('dns_search'), p('dns_search'));
  if (dns?.length || dnsSearch?.length) {
    container.DNSConfig = {};
    if (dns?.length) container.DNSConfig.Nameservers = dns;
    if (dnsSearch?.length) container.DNSConfig.Search = dnsSearch;
  }
  const sysctls = r.listOrDict(get('sysctls'), p('sysctls'));
  if (sysctls) container.Sysctls = Object.fromEntries(Object.entries(sysctls).map(([k, v]) => [k, v ?? '']));
  const capAdd = r.strings(get('cap_add'), p('cap_add'));
  const capDrop = r.strings(get('cap_drop'), p('cap_drop'));
  if (capAdd?.length) container.CapabilityAdd = capAdd.map(capName);
  if (capDrop?.length) container.CapabilityDrop = capDrop.map(capName);
  const ulimits = ulimitList(r, get('ulimits'), p('ulimits'));
  if (ulimits) container.Ulimits = ulimits;
  const hc = healthcheck(r, get('healthcheck'), p('healthcheck'));
  if (hc) container.Healthcheck = hc;

  const logging = r.map(get('logging'), p('logging'), ['driver', 'options']);
  let logDriver: ServiceModel['logDriver'];
  if (logging) {
    logDriver = {};
    setIf(logDriver, 'Name', r.str(child(logging, 'driver'), p('logging.driver')));
    const o = child(logging, 'options');
    if (o && !(isPScalar(o) && o.value === null)) setIf(logDriver, 'Options', r.options(o, p('logging.options')));
  }

  const environment = r.listOrDict(get('environment'), p('environment')) ?? {};
  const envFiles = (r.stringOrList(get('env_file'), p('env_file')) ?? []).map((f) => ({ pos: get('env_file')!.pos, path: f }));
  const labels = nonNull(r.listOrDict(get('labels'), p('labels')));

  const deploy = decodeDeploy(r, get('deploy'), p('deploy'));
  // docker falls back to the (unsupported) restart key when deploy.restart_policy is absent.
  const restart = r.str(get('restart'), p('restart'));
  if (!deploy.restartPolicy && restart !== undefined) deploy.restartPolicy = legacyRestart(r, get('restart')!, restart, p('restart'));

  return {
    name,
    pos: keyPos,
    image,
    container,
    environment,
    envFiles,
    labels,
    mounts: mounts(r, get('volumes'), p('volumes')),
    secrets: fileRefs(r, get('secrets'), p('secrets')),
    configs: fileRefs(r, get('configs'), p('configs')),
    networks: serviceNetworks(r, get('networks'), p('networks'), name, warn),
    ports: ports(r, get('ports'), p('ports'), name, warn),
    dependsOn: dependsOn(r, get('depends_on'), p('depends_on')),
    logDriver,
    healthcheck: hc,
    ...deploy,
  };
}

function setIf<T extends object, K extends keyof T>(obj: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) obj[key] = value;
}

function nonNull(m: Record<string, string | null> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(m ?? {}).map(([k, v]) => [k, v ?? '']));
}

function capName(c: string): string {
  const u = c.toUpperCase();
  return u === 'ALL' || u.startsWith('CAP_') ? u : `CAP_${u}`;
}

function command(r: Reader, node: PNode | undefined, path: string): string[] | undefined {
  if (node === undefined || (isPScalar(node) && node.value === null)) return undefined;
  if (isPScalar(node) && typeof node.value === 'string') {
    try {
      return splitShellWords(node.value);
    } catch (err) {
      return r.error(node, `${path}: ${(err as Error).message}`);
    }
  }
  if (isPSeq(node)) {
    const out: string[] = [];
    node.items.forEach((it, i) => {
      const s = r.str(it, `${path}[${i}]`);
      if (s !== undefined) out.push(s);
    });
    return out;
  }
  return r.error(node, `${path} must be a string or a list of strings`);
}

function ulimitList(r: Reader, node: PNode | undefined, path: string): Ulimit[] | undefined {
  if (node === undefined) return undefined;
  if (!isPMap(node)) return r.error(node, `${path} must be a mapping of limit names`);
  const out: Ulimit[] = [];
  for (const [name, e] of node.entries) {
    if (!/^[a-z]+$/.test(name)) r.error(e.keyPos, `${path}: '${name}' is not a ulimit name`);
    const v = e.value;
    if (isPScalar(v) && typeof v.value === 'number') {
      const n = r.int(v, `${path}.${name}`, 0);
      if (n !== undefined) out.push({ Name: name, Soft: n, Hard: n });
      continue;
    }
    const u = r.map(v, `${path}.${name}`, ['soft', 'hard']);
    if (!u) continue;
    const soft = r.int(child(u, 'soft'), `${path}.${name}.soft`, 0);
    const hard = r.int(child(u, 'hard'), `${path}.${name}.hard`, 0);
    if (child(u, 'soft') === undefined || child(u, 'hard') === undefined) r.error(v, `${path}.${name} needs both soft and hard`);
    else if (soft !== undefined && hard !== undefined) {
      if (soft > hard) r.error(v, `${path}.${name}: soft limit ${soft} is above hard limit ${hard}`);
      out.push({ Name: name, Soft: soft, Hard: hard });
    }
  }
  return out.sort((a, b) => (a.Name! < b.Name! ? -1 : 1));
}

function healthcheck(r: Reader, node: PNode | undefined, path: string): HealthConfig | undefined {
  const m = r.map(node, path, ['disable', 'interval', 'retries', 'test', 'timeout', 'start_period', 'start_interval']);
  if (!m) return undefined;
  const p = (k: string) => `${path}.${k}`;
  const disable = r.bool(child(m, 'disable'), p('disable'));
  const testNode = child(m, 'test');
  let test: string[] | undefined;
  if (testNode !== undefined) {
    if (isPScalar(testNode) && typeof testNode.value === 'string') test = ['CMD-SHELL', testNode.value];
    else if (isPSeq(testNode)) {
      test = r.strings(testNode, p('test'));
      if (test && test.length > 0 && !['NONE', 'CMD', 'CMD-SHELL'].includes(test[0])) {
        r.error(testNode, `${p('test')}: a list must start with NONE, CMD or CMD-SHELL, not '${test[0]}'`);
      }
    } else r.error(testNode, `${p('test')} must be a string or a list of strings`);
  }
  const hc: HealthConfig = {};
  if (disable) {
    if (test && test.length > 0) r.error(m, `${path}: test and disable cannot both be set`);
    return { Test: ['NONE'] };
  }
  if (test) hc.Test = test;
  setIf(hc, 'Interval', nonZero(r.duration(child(m, 'interval'), p('interval'))));
  setIf(hc, 'Timeout', nonZero(r.duration(child(m, 'timeout'), p('timeout'))));
  setIf(hc, 'StartPeriod', nonZero(r.duration(child(m, 'start_period'), p('start_period'))));
  setIf(hc, 'StartInterval', nonZero(r.duration(child(m, 'start_interval'), p('start_interval'))));
  const retries = child(m, 'retries');
  if (retries !== undefined) setIf(hc, 'Retries', nonZero(r.int(retries, p('retries'), 0)));
  return hc;
}

function nonZero(n: number | undefined): number | undefined {
  return n === 0 ? undefined : n;
}

function legacyRestart(r: Reader, node: PNode, value: string, path: string): RestartPolicy | undefined {
  const [policy, count, extra] = value.split(':');
  const n = count === undefined ? 0 : /^\d+$/.test(count) ? Number(count) : NaN;
  if (extra !== undefined || Number.isNaN(n)) return r.error(node, `${path}: '${value}' is not a restart policy`);
  switch (policy) {
    case 'no':
    case '':
      return undefined;
    case 'always':
    case 'unless-stopped':
      return n > 0 ? { Condition: 'any', MaxAttempts: n } : { Condition: 'any' };
    case 'on-failure':
      return n > 0 ? { Condition: 'on-failure', MaxAttempts: n } : { Condition: 'on-failure' };
    default:
      return r.error(node, `${path}: unknown policy '${policy}' (expected no, always, on-failure or unless-stopped)`);
  }
}

type DeployPart = Pick<ServiceModel, 'deployLabels' | 'mode' | 'endpointMode' | 'resources' | 'restartPolicy' | 'placement' | 'updateConfig' | 'rollbackConfig'>;

function decodeDeploy(r: Reader, node: PNode | undefined, path: string): DeployPart {
  const out: DeployPart = { deployLabels: {}, mode: { Replicated: {} }, resources: {}, placement: {} };
  const m = r.map(node, path, ['mode', 'endpoint_mode', 'replicas', 'labels', 'rollback_config', 'update_config', 'resources', 'restart_policy', 'placement'], { nullable: true });
  if (!m) return out;
  const p = (k: string) => `${path}.${k}`;
  const mode = r.oneOf(child(m, 'mode'), p('mode'), ['replicated', 'global', 'replicated-job', 'global-job'] as const) ?? 'replicated';
  const replicas = r.int(child(m, 'replicas'), p('replicas'), 0);
  if (replicas !== undefined && (mode === 'global' || mode === 'global-job')) r.error(child(m, 'replicas')!, `${p('replicas')}: replicas can only be used with replicated or replicated-job mode`);
  const modes: Record<string, ServiceMode> = {
    replicated: { Replicated: replicas === undefined ? {} : { Replicas: replicas } },
    global: { Global: {} },
    'replicated-job': { ReplicatedJob: replicas === undefined ? {} : { MaxConcurrent: replicas, TotalCompletions: replicas } },
    'global-job': { GlobalJob: {} },
  };
  out.mode = modes[mode];
  out.endpointMode = r.oneOf(child(m, 'endpoint_mode'), p('endpoint_mode'), ['vip', 'dnsrr'] as const);
  out.deployLabels = nonNull(r.listOrDict(child(m, 'labels'), p('labels')));
  out.updateConfig = updateConfig(r, child(m, 'update_config'), p('update_config'), ['continue', 'pause', 'rollback']);
  out.rollbackConfig = updateConfig(r, child(m, 'rollback_config'), p('rollback_config'), ['continue', 'pause']) as DeployPart['rollbackConfig'];
  out.resources = resources(r, child(m, 'resources'), p('resources'));
  out.restartPolicy = restartPolicy(r, child(m, 'restart_policy'), p('restart_policy'));
  out.placement = placement(r, child(m, 'placement'), p('placement'));
  return out;
}

function updateConfig(r: Reader, node: PNode | undefined, path: string, actions: readonly string[]): UpdateConfig | undefined {
  const m = r.map(node, path, ['parallelism', 'delay', 'failure_action', 'monitor', 'max_failure_ratio', 'order']);
  if (!m) return undefined;
  const p = (k: string) => `${path}.${k}`;
  // docker updates one task at a time unless told otherwise.
  const u: UpdateConfig = { Parallelism: r.int(child(m, 'parallelism'), p('parallelism'), 0) ?? 1 };
  setIf(u, 'Delay', r.duration(child(m, 'delay'), p('delay')));
  setIf(u, 'FailureAction', r.oneOf(child(m, 'failure_action'), p('failure_action'), actions) as UpdateConfig['FailureAction']);
  setIf(u, 'Monitor', r.duration(child(m, 'monitor'), p('monitor')));
  const ratio = r.num(child(m, 'max_failure_ratio'), p('max_failure_ratio'));
  if (ratio !== undefined && (ratio < 0 || ratio > 1)) r.error(child(m, 'max_failure_ratio')!, `${p('max_failure_ratio')}: ${ratio} is not between 0 and 1`);
  else setIf(u, 'MaxFailureRatio', ratio);
  setIf(u, 'Order', r.oneOf(child(m, 'order'), p('order'), ['start-first', 'stop-first'] as const));
  return u;
}

function cpus(r: Reader, node: PNode | undefined, path: string): number | undefined {
  const s = r.str(node, path);
  if (s === undefined) return undefined;
  try {
    return parseNanoCpus(s);
  } catch {
    return r.error(node!, `${path}: '${s}' is not a number of CPUs (such as '0.5')`);
  }
}

function resources(r: Reader, node: PNode | undefined, path: string): TaskResources {
  const out: TaskResources = {};
  const m = r.map(node, path, ['limits', 'reservations']);
  if (!m) return out;
  const lim = r.map(child(m, 'limits'), `${path}.limits`, ['cpus', 'memory', 'pids']);
  if (lim) {
    out.Limits = {};
    setIf(out.Limits, 'NanoCPUs', cpus(r, child(lim, 'cpus'), `${path}.limits.cpus`));
    setIf(out.Limits, 'MemoryBytes', r.bytes(child(lim, 'memory'), `${path}.limits.memory`));
    setIf(out.Limits, 'Pids', r.int(child(lim, 'pids'), `${path}.limits.pids`, 0));
  }
  const res = r.map(child(m, 'reservations'), `${path}.reservations`, ['cpus', 'memory', 'generic_resources']);
  if (res) {
    out.Reservations = {};
    setIf(out.Reservations, 'NanoCPUs', cpus(r, child(res, 'cpus'), `${path}.reservations.cpus`));
    setIf(out.Reservations, 'MemoryBytes', r.bytes(child(res, 'memory'), `${path}.reservations.memory`));
    const gp = `${path}.reservations.generic_resources`;
    const generic: GenericResource[] = [];
    r.list(child(res, 'generic_resources'), gp)?.forEach((it, i) => {
      const g = r.map(it, `${gp}[${i}]`, ['discrete_resource_spec']);
      const d = g && r.map(child(g, 'discrete_resource_spec'), `${gp}[${i}].discrete_resource_spec`, ['kind', 'value']);
      if (!d) return;
      const kind = r.name(child(d, 'kind'), `${gp}[${i}].discrete_resource_spec.kind`);
      const value = r.int(child(d, 'value'), `${gp}[${i}].discrete_resource_spec.value`, 0);
      if (kind !== undefined && value !== undefined) generic.push({ DiscreteResourceSpec: { Kind: kind, Value: value } });
    });
    if (generic.length) out.Reservations.GenericResources = generic;
  }
  return out;
}

function restartPolicy(r: Reader, node: PNode | undefined, path: string): RestartPolicy | undefined {
  const m = r.map(node, path, ['condition', 'delay', 'max_attempts', 'window']);
  if (!m) return undefined;
  const p = (k: string) => `${path}.${k}`;
  const rp: RestartPolicy = {};
  setIf(rp, 'Condition', r.oneOf(child(m, 'condition'), p('condition'), ['none', 'on-failure', 'any'] as const));
  setIf(rp, 'Delay', r.duration(child(m, 'delay'), p('delay')));
  setIf(rp, 'MaxAttempts', r.int(child(m, 'max_attempts'), p('max_attempts'), 0));
  setIf(rp, 'Window', r.duration(child(m, 'window'), p('window')));
  return rp;
}

function placement(r: Reader, node: PNode | undefined, path: string): Placement {
  const out: Placement = {};
  const m = r.map(node, path, ['constraints', 'preferences', 'max_replicas_per_node']);
  if (!m) return out;
  const constraints = r.list(child(m, 'constraints'), `${path}.constraints`);
  if (constraints) {
    out.Constraints = [];
    constraints.forEach((it, i) => {
      const s = r.str(it, `${path}.constraints[${i}]`);
      if (s === undefined) return;
      try {
        parseConstraint(s);
        out.Constraints!.push(s);
      } catch (err) {
        r.error(it, `${path}.constraints[${i}]: ${(err as Error).message}`);
      }
    });
  }
  const prefs = r.list(child(m, 'preferences'), `${path}.preferences`);
  if (prefs) {
    out.Preferences = [];
    prefs.forEach((it, i) => {
      const pm = r.map(it, `${path}.preferences[${i}]`, ['spread']);
      const spread = pm && r.name(child(pm, 'spread'), `${path}.preferences[${i}].spread`);
      if (pm && child(pm, 'spread') === undefined) r.error(it, `${path}.preferences[${i}] needs spread`);
      if (spread) out.Preferences!.push({ Spread: { SpreadDescriptor: spread } });
    });
  }
  setIf(out, 'MaxReplicas', r.int(child(m, 'max_replicas_per_node'), `${path}.max_replicas_per_node`, 0));
  return out;
}

function fileRefs(r: Reader, node: PNode | undefined, path: string): FileRefModel[] {
  const out: FileRefModel[] = [];
  r.list(node, path)?.forEach((it, i) => {
    const ip = `${path}[${i}]`;
    if (isPScalar(it)) {
      const source = r.name(it, ip);
      if (source !== undefined) out.push({ pos: it.pos, source });
      return;
    }
    const m = r.map(it, ip, ['source', 'target', 'uid', 'gid', 'mode']);
    if (!m) return;
    const source = r.name(child(m, 'source'), `${ip}.source`);
    if (child(m, 'source') === undefined) r.error(it, `${ip} needs a source`);
    const ref: FileRefModel = { pos: it.pos, source: source ?? '' };
    setIf(ref, 'target', r.name(child(m, 'target'), `${ip}.target`));
    setIf(ref, 'uid', r.str(child(m, 'uid'), `${ip}.uid`));
    setIf(ref, 'gid', r.str(child(m, 'gid'), `${ip}.gid`));
    setIf(ref, 'mode', r.mode(child(m, 'mode'), `${ip}.mode`));
    if (source !== undefined) out.push(ref);
  });
  return out;
}

function serviceNetworks(r: Reader, node: PNode | undefined, path: string, service: string, warn: (w: StackWarning) => void): ServiceNetworkModel[] | undefined {
  if (node === undefined) return undefined;
  if (isPSeq(node)) {
    return (r.strings(node, path) ?? []).map((name, i) => ({ pos: node.items[i].pos, name, aliases: [] }));
  }
  if (!isPMap(node)) return r.error(node, `${path} must be a list or a mapping`);
  const out: ServiceNetworkModel[] = [];
  for (const [name, e] of node.entries) {
    const np = `${path}.${name}`;
    if (!NAME_RE.test(name)) r.error(e.keyPos, `${path}: '${name}' is not a valid network name`);
    const net: ServiceNetworkModel = { pos: e.keyPos, name, aliases: [] };
    const m = r.map(e.value, np, ['aliases', 'driver_opts', 'ipv4_address', 'ipv6_address'], { nullable: true });
    if (m) {
      net.aliases = r.strings(child(m, 'aliases'), `${np}.aliases`) ?? [];
      setIf(net, 'driverOpts', r.options(child(m, 'driver_opts'), `${np}.driver_opts`));
      for (const k of ['ipv4_address', 'ipv6_address']) {
        const v = child(m, k);
        if (v === undefined) continue;
        r.str(v, `${np}.${k}`);
        warn({ kind: 'ignored', service, key: `networks.${name}.${k}`, pos: m.entries.get(k)!.keyPos, message: `service ${service}: ignoring '${k}' on network ${name}: a swarm allocates task addresses itself` });
      }
    }
    out.push(net);
  }
  return out;
}

function ports(r: Reader, node: PNode | undefined, path: string, service: string, warn: (w: StackWarning) => void): ServiceModel['ports'] {
  const out: ServiceModel['ports'] = [];
  r.list(node, path)?.forEach((it, i) => {
    const ip = `${path}[${i}]`;
    if (isPScalar(it) && (typeof it.value === 'string' || typeof it.value === 'number')) {
      try {
        const parsed = parsePortSpec(it.value);
        if (parsed.hostIp) warn({ kind: 'ignored', service, key: 'ports', pos: it.pos, message: `service ${service}: ignoring host address ${parsed.hostIp} in port '${it.value}': a swarm publishes on every address` });
        out.push(...parsed.ports);
      } catch (err) {
        r.error(it, `${ip}: ${(err as Error).message}`);
      }
      return;
    }
    const m = r.map(it, ip, ['mode', 'target', 'published', 'protocol']);
    if (!m) return;
    const target = r.int(child(m, 'target'), `${ip}.target`, 1, 65535);
    if (child(m, 'target') === undefined) r.error(it, `${ip} needs a target port`);
    const published = r.int(child(m, 'published'), `${ip}.published`, 1, 65535);
    const protocol = r.oneOf(child(m, 'protocol'), `${ip}.protocol`, PROTOCOLS);
    const mode = r.oneOf(child(m, 'mode'), `${ip}.mode`, ['ingress', 'host'] as const);
    if (target === undefined) return;
    const port: ServiceModel['ports'][number] = {};
    if (protocol) port.Protocol = protocol as PortProtocol;
    port.TargetPort = target;
    if (published !== undefined) port.PublishedPort = published;
    if (mode) port.PublishMode = mode as PublishMode;
    out.push(port);
  });
  return out;
}

function dependsOn(r: Reader, node: PNode | undefined, path: string): ServiceModel['dependsOn'] {
  if (node === undefined) return [];
  if (isPSeq(node)) return (r.strings(node, path) ?? []).map((name, i) => ({ pos: node.items[i].pos, name }));
  // The long form (compose spec) is accepted for its names; the deployer waits for running
  // and healthy whatever the condition says.
  if (!isPMap(node)) return r.error(node, `${path} must be a list of service names or a mapping`) ?? [];
  const out: ServiceModel['dependsOn'] = [];
  for (const [name, e] of node.entries) {
    const m = r.map(e.value, `${path}.${name}`, ['condition', 'restart', 'required'], { nullable: true });
    if (m) {
      r.oneOf(child(m, 'condition'), `${path}.${name}.condition`, ['service_started', 'service_healthy', 'service_completed_successfully'] as const);
      r.bool(child(m, 'restart'), `${path}.${name}.restart`);
      r.bool(child(m, 'required'), `${path}.${name}.required`);
    }
    out.push({ pos: e.keyPos, name });
  }
  return out;
}

function mounts(r: Reader, node: PNode | undefined, path: string): ServiceModel['mounts'] {
  const out: ServiceModel['mounts'] = [];
  r.list(node, path)?.forEach((it, i) => {
    const ip = `${path}[${i}]`;
    if (isPScalar(it)) {
      const s = r.str(it, ip);
      if (s === undefined) return;
      try {
        out.push({ pos: it.pos, spec: parseVolumeSpec(s) });
      } catch (err) {
        r.error(it, `${ip}: ${(err as Error).message}`);
      }
      return;
    }
    const spec = longMount(r, it, ip);
    if (spec) out.push({ pos: it.pos, spec });
  });
  return out;
}

function longMount(r: Reader, it: PNode, ip: string): VolumeMountSpec | undefined {
  const m = r.map(it, ip, ['type', 'source', 'target', 'read_only', 'consistency', 'bind', 'volume', 'tmpfs']);
  if (!m) return undefined;
  const typeNode = child(m, 'type');
  if (typeNode === undefined) return r.error(it, `${ip} needs a type (volume, bind or tmpfs)`);
  const type = r.oneOf(typeNode, `${ip}.type`, MOUNT_TYPES);
  const source = r.str(child(m, 'source'), `${ip}.source`);
  const target = r.name(child(m, 'target'), `${ip}.target`);
  if (child(m, 'target') === undefined) r.error(it, `${ip} needs a target`);
  else if (target !== undefined && !target.startsWith('/')) r.error(child(m, 'target')!, `${ip}.target: '${target}' must be an absolute path`);
  const spec: VolumeMountSpec = { type: type ?? 'volume', target: target ?? '' };
  if (source) spec.source = source;
  setIf(spec, 'readOnly', r.bool(child(m, 'read_only'), `${ip}.read_only`));
  setIf(spec, 'consistency', r.oneOf(child(m, 'consistency'), `${ip}.consistency`, ['default', 'consistent', 'cached', 'delegated'] as const));
  const bind = r.map(child(m, 'bind'), `${ip}.bind`, ['propagation']);
  const volume = r.map(child(m, 'volume'), `${ip}.volume`, ['nocopy']);
  const tmpfs = r.map(child(m, 'tmpfs'), `${ip}.tmpfs`, ['size']);
  if (bind) setIf(spec, 'propagation', r.oneOf(child(bind, 'propagation'), `${ip}.bind.propagation`, PROPAGATIONS) as BindPropagation | undefined);
  if (volume) setIf(spec, 'noCopy', r.bool(child(volume, 'nocopy'), `${ip}.volume.nocopy`));
  if (tmpfs) setIf(spec, 'tmpfsSize', r.bytes(child(tmpfs, 'size'), `${ip}.tmpfs.size`, true));
  if (!type || target === undefined) return undefined;
  const wrong = (opt: string) => r.error(m.entries.get(opt)!.keyPos, `${ip}: ${opt} options do not apply to a mount of type ${type}`);
  for (const opt of ['bind', 'volume', 'tmpfs'] as const) if (m.entries.has(opt) && opt !== type) wrong(opt);
  if (type === 'bind' && !source) r.error(it, `${ip}: a bind mount needs a source path`);
  if (type === 'tmpfs' && source) r.error(child(m, 'source')!, `${ip}: a tmpfs mount takes no source`);
  return spec;
}
