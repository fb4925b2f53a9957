// service update's flags applied to the spec read from the daemon, as docker applies them:
// only the fields a given flag names change; -add/-rm lists merge into what is there and are
// sorted where docker sorts them (so an update without changes leaves the spec identical).
import { OptionError } from '../errors';
import { resolveEnv } from '../env';
import { parseUlimits, validateIp } from '../policy';
import { parseCpus, parseInteger, parseKeyValues, parseSize } from '../values';
import { parseMount } from '../volumes';
import type { ContainerSpec, PortConfig, ServiceSpec, TaskSpec } from '../../format/swarm-types';
import type { Mount as SwarmMount } from '../../../shared/swarm/types';
import type { CommonServiceFlags, UpdateServiceFlags } from './flags';
import { ENDPOINT_MODES, parseLabels, restartPolicy, swarmHosts, taggedImage, updateConfig, type SpecDeps } from './create';
import { configReferences, parseFileRef, secretReferences, updateFileRefs, type FileRef, type FileRefKind } from './secrets';
import { oneOf, parseDuration, parseNetwork, parsePlacementPref, parsePublish, parseShellWords, parseUint } from './values';

export interface UpdateDeps extends SpecDeps {
  /** A network name or ID to its ID (GET /networks/{name}?scope=swarm); throws when there is none. */
  resolveNetwork(nameOrId: string): Promise<string>;
  /** --secret-add/--config-add names to IDs (resolveFileRefs); without it the IDs stay unset. */
  resolveFileRefs?(kind: FileRefKind, refs: FileRef[]): Promise<FileRef[]>;
}

const given = (...vs: unknown[]) => vs.some((v) => v !== undefined);
const cmpStr = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Set a string field, or drop it when set to "" (Go leaves empty strings out). */
function setString<T extends object>(obj: T, key: keyof T, value: string | undefined): void {
  if (value === undefined) return;
  if (value === '') delete obj[key];
  else (obj as Record<keyof T, unknown>)[key] = value;
}

/** Apply -rm keys then -add values to a label map (docker's updateLabels). */
function updateMap<M extends Record<string, string> | null | undefined>(current: M, add: string[] | undefined, rm: string[] | undefined, parse: (v: string[]) => Record<string, string>): M | Record<string, string> {
  let out: M | Record<string, string> = current ? { ...current } : current;
  if (out && rm) for (const k of rm) delete out[k];
  if (add) out = { ...(out ?? {}), ...parse(add) };
  return out;
}

function updateEnv(env: string[] | undefined, add: string[] | undefined, rm: string[] | undefined, lookup: SpecDeps['lookupEnv']): string[] | undefined {
  if (!add && !rm) return env;
  const key = (e: string) => e.split('=')[0];
  const removed = new Set(rm ?? []);
  const out = (env ?? []).filter((e) => !removed.has(key(e)));
  for (const e of resolveEnv(add ?? [], lookup, '--env-add')) {
    const i = out.findIndex((x) => key(x) === key(e));
    if (i >= 0) out[i] = e;
    else out.push(e);
  }
  return out.length ? out : undefined;
}

function updateMounts(cs: ContainerSpec, add: string[] | undefined, rm: string[] | undefined): void {
  if (!add && !rm) return;
  const byTarget = new Map<string, NonNullable<ContainerSpec['Mounts']>[number]>();
  for (const raw of add ?? []) {
    const m = parseMount(raw) as SwarmMount & { Target: string }; // parseMount admits only the API's mount types
    if (byTarget.has(m.Target)) throw new OptionError('duplicate mount target');
    byTarget.set(m.Target, m);
  }
  for (const m of cs.Mounts ?? []) if (!byTarget.has(m.Target!)) byTarget.set(m.Target!, m);
  const removed = new Set(rm ?? []);
  const mounts = [...byTarget.values()].filter((m) => !removed.has(m.Target!)).sort((a, b) => cmpStr(a.Source ?? '', b.Source ?? '') || cmpStr(a.Target!, b.Target!));
  if (mounts.length) cs.Mounts = mounts;
  else delete cs.Mounts;
}

function updateUlimits(cs: ContainerSpec, add: string[] | undefined, rm: string[] | undefined): void {
  if (!add && !rm) return;
  const byName = new Map((cs.Ulimits ?? []).map((u) => [u.Name, u]));
  for (const k of Object.keys(parseKeyValues(rm ?? [], '--ulimit-rm'))) byName.delete(k);
  for (const u of parseUlimits(add ?? [])) byName.set(u.Name, u);
  const out = [...byName.values()].sort((a, b) => cmpStr(a.Name!, b.Name!));
  if (out.length) cs.Ulimits = out;
  else delete cs.Ulimits;
}

/** Append, remove exact values, sort (constraints, groups). */
function addRemoveSorted(current: string[] | undefined, add: string[] | undefined, rm: string[] | undefined): string[] | undefined {
  const removed = new Set(rm ?? []);
  const out = [...(current ?? []), ...(add ?? [])].filter((v) => !removed.has(v)).sort(cmpStr);
  return out.length ? out : undefined;
}

/** Append unless the previous entry is the same (Go's slices.Compact), remove, sort. */
function dnsList(current: string[] | undefined, add: string[], rm: string[] | undefined, compare: (a: string, b: string) => number): string[] | undefined {
  const all = [...(current ?? []), ...add];
  const removed = new Set(rm ?? []);
  const out = all.filter((v, i) => i === 0 || v !== all[i - 1]).filter((v) => !removed.has(v)).sort(compare);
  return out.length ? out : undefined;
}

/** netip.Addr ordering: IPv4 before IPv6, then by address bytes. */
function compareIps(a: string, b: string): number {
  const bytes = (ip: string): number[] => {
    if (!ip.includes(':')) return ip.split('.').map(Number);
    const [head, tail] = ip.split('::');
    const h = head ? head.split(':') : [];
    const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
    const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
    return groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]);
  };
  const x = bytes(a);
  const y = bytes(b);
  if (x.length !== y.length) return x.length - y.length;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return 0;
}

function updateDns(cs: ContainerSpec, f: UpdateServiceFlags): void {
  if (!given(f.dnsAdd, f.dnsRm, f.dnsOptionAdd, f.dnsOptionRm, f.dnsSearchAdd, f.dnsSearchRm)) return;
  const cur = cs.DNSConfig ?? {};
  const servers = [...new Set([...(cur.Nameservers ?? []), ...(f.dnsAdd ?? []).map((ip) => validateIp(ip, '--dns-add'))])];
  const removed = new Set(f.dnsRm ?? []);
  const ns = servers.filter((s) => !removed.has(s)).sort(compareIps);
  const search = dnsList(cur.Search, f.dnsSearchAdd ?? [], f.dnsSearchRm, cmpStr);
  const options = dnsList(cur.Options, f.dnsOptionAdd ?? [], f.dnsOptionRm, cmpStr);
  cs.DNSConfig = { ...(ns.length ? { Nameservers: ns } : {}), ...(search ? { Search: search } : {}), ...(options ? { Options: options } : {}) };
}

/** docker's updateHosts: remove "host" everywhere or "host:ip" from that IP's line, then append. */
function updateHosts(cs: ContainerSpec, add: string[] | undefined, rm: string[] | undefined): void {
  if (!add && !rm) return;
  const removals = (rm ?? []).map((r) => {
    const i = r.indexOf(':');
    return i < 0 ? { host: r, ip: '' } : { host: r.slice(0, i), ip: r.slice(i + 1) };
  });
  const out: string[] = [];
  for (const entry of cs.Hosts ?? []) {
    const [ip, ...names] = entry.split(/\s+/).filter((x) => x !== '');
    if (ip === undefined) continue;
    let kept = names;
    for (const r of removals) if (!r.ip || r.ip === ip) kept = kept.filter((n) => n !== r.host);
    if (kept.length) out.push(`${ip} ${kept.join(' ')}`);
  }
  out.push(...swarmHosts(add ?? [], '--host-add'));
  const unique = [...new Set(out)];
  if (unique.length) cs.Hosts = unique;
  else delete cs.Hosts;
}

const portKey = (p: PortConfig) => `${p.PublishedPort ?? 0}:${p.TargetPort ?? 0}/${p.Protocol ?? ''}/${p.PublishMode ?? ''}`;
const sameProto = (a = '', b = '') => a === b || (a === '' && b === 'tcp') || (b === '' && a === 'tcp');
const sameMode = (a = '', b = '') => a === b || (a === '' && b === 'ingress') || (b === '' && a === 'ingress');

/** --publish-rm matches protocol, target port and mode; --publish-add skips ports already there. */
function updatePorts(current: PortConfig[] | undefined, add: string[] | undefined, rm: string[] | undefined): PortConfig[] {
  const set = new Map<string, PortConfig>();
  for (const p of current ?? []) if (!set.has(portKey(p))) set.set(portKey(p), p);
  const removals = (rm ?? []).flatMap((r) => parsePublish(r, '--publish-rm'));
  const out = [...set.values()].filter((p) => !removals.some((r) => sameProto(p.Protocol, r.Protocol) && (p.TargetPort ?? 0) === (r.TargetPort ?? 0) && sameMode(p.PublishMode, r.PublishMode)));
  for (const p of (add ?? []).flatMap((a) => parsePublish(a, '--publish-add'))) if (!set.has(portKey(p))) out.push(p);
  return out.sort((a, b) => cmpStr(portKey(a), portKey(b)));
}

async function updateNetworks(task: TaskSpec, f: UpdateServiceFlags, deps: UpdateDeps): Promise<void> {
  if (!f.networkAdd && !f.networkRm) return;
  const removeIds = new Set<string>();
  for (const n of f.networkRm ?? []) removeIds.add(await deps.resolveNetwork(n));
  const out = (task.Networks ?? []).filter((n) => !removeIds.has(n.Target ?? ''));
  const existing = new Set(out.map((n) => n.Target));
  for (const raw of f.networkAdd ?? []) {
    const n = parseNetwork(raw, '--network-add');
    const id = await deps.resolveNetwork(n.Target!);
    if (existing.has(id)) throw new OptionError(`service is already attached to network ${n.Target}`);
    out.push({ ...n, Target: id });
    existing.add(id);
  }
  out.sort((a, b) => cmpStr(a.Target ?? '', b.Target ?? ''));
  if (out.length) task.Networks = out;
  else delete task.Networks;
}

const normalizeCap = (c: string) => {
  const u = c.trim().toUpperCase();
  return u === 'ALL' || u === 'RESET' || u.startsWith('CAP_') ? u : `CAP_${u}`;
};

/** docker's tri-state capability update: adding a dropped capability un-drops it, and the reverse. */
function updateCapabilities(cs: ContainerSpec, addFlag: string[] | undefined, dropFlag: string[] | undefined): void {
  if (!addFlag && !dropFlag) return;
  let capAdd = new Set((cs.CapabilityAdd ?? []).map(normalizeCap));
  let capDrop = new Set((cs.CapabilityDrop ?? []).map(normalizeCap));
  const toAdd = new Set((addFlag ?? []).map(normalizeCap));
  const toDrop = new Set((dropFlag ?? []).map(normalizeCap));
  if (toAdd.delete('RESET')) capAdd = new Set();
  if (toDrop.delete('RESET')) capDrop = new Set();
  for (const c of toDrop) {
    if (toAdd.has(c)) continue;
    if (capAdd.has(c)) capAdd.delete(c);
    else capDrop.add(c);
  }
  for (const c of toAdd) {
    if (capDrop.has(c)) capDrop.delete(c);
    else capAdd.add(c);
  }
  const list = (s: Set<string>) => (s.size === 0 ? undefined : s.has('ALL') ? ['ALL'] : [...s].sort(cmpStr));
  const add = list(capAdd);
  const drop = list(capDrop);
  if (add) cs.CapabilityAdd = add;
  else delete cs.CapabilityAdd;
  if (drop) cs.CapabilityDrop = drop;
  else delete cs.CapabilityDrop;
}

interface HealthValues {
  cmd?: string;
  interval?: number;
  timeout?: number;
  startPeriod?: number;
  startInterval?: number;
  retries?: number;
  /** --no-healthcheck */
  none: boolean;
}

/** The --health-* flags, parsed (health durations cannot be negative). */
function healthValues(f: CommonServiceFlags): HealthValues {
  const dur = (v: string | undefined, flag: string) => (v === undefined ? undefined : parseDuration(v, flag, { positive: true }));
  return {
    cmd: f.healthCmd,
    interval: dur(f.healthInterval, '--health-interval'),
    timeout: dur(f.healthTimeout, '--health-timeout'),
    startPeriod: dur(f.healthStartPeriod, '--health-start-period'),
    startInterval: dur(f.healthStartInterval, '--health-start-interval'),
    retries: f.healthRetries === undefined ? undefined : parseInteger(f.healthRetries, '--health-retries'),
    none: f.healthcheck === false,
  };
}

const NO_HEALTHCHECK_CONFLICT = '--no-healthcheck conflicts with --health-* options';

function updateHealthcheck(cs: ContainerSpec, f: UpdateServiceFlags): void {
  const others = given(f.healthCmd, f.healthInterval, f.healthRetries, f.healthTimeout, f.healthStartPeriod, f.healthStartInterval);
  if (!others && f.healthcheck !== false) return;
  const h = healthValues(f);
  if (h.none) {
    if (others) throw new OptionError(NO_HEALTHCHECK_CONFLICT);
    cs.Healthcheck = { Test: ['NONE'] };
    return;
  }
  const hc = { ...(cs.Healthcheck ?? {}) };
  if (hc.Test?.[0] === 'NONE') delete hc.Test;
  const set = (k: 'Interval' | 'Timeout' | 'StartPeriod' | 'StartInterval' | 'Retries', v: number | undefined) => {
    if (v === undefined) return;
    if (v) hc[k] = v;
    else delete hc[k];
  };
  set('Interval', h.interval);
  set('Timeout', h.timeout);
  set('StartPeriod', h.startPeriod);
  set('StartInterval', h.startInterval);
  set('Retries', h.retries);
  if (h.cmd !== undefined) {
    if (h.cmd) hc.Test = ['CMD-SHELL', h.cmd];
    else delete hc.Test;
  }
  cs.Healthcheck = hc;
}

function updateResources(task: TaskSpec, f: UpdateServiceFlags): void {
  const setNum = (o: Record<string, unknown>, k: string, v: number | undefined) => {
    if (v === undefined) return;
    if (v) o[k] = v;
    else delete o[k];
  };
  if (given(f.limitCpu, f.limitMemory, f.limitPids)) {
    task.Resources ??= {};
    const l = (task.Resources.Limits = { ...(task.Resources.Limits ?? {}) });
    setNum(l, 'NanoCPUs', f.limitCpu === undefined ? undefined : parseCpus(f.limitCpu, '--limit-cpu'));
    setNum(l, 'MemoryBytes', f.limitMemory === undefined ? undefined : parseSize(f.limitMemory, '--limit-memory'));
    setNum(l, 'Pids', f.limitPids === undefined ? undefined : parseInteger(f.limitPids, '--limit-pids'));
  }
  if (given(f.reserveCpu, f.reserveMemory)) {
    task.Resources ??= {};
    const r = (task.Resources.Reservations = { ...(task.Resources.Reservations ?? {}) });
    setNum(r, 'NanoCPUs', f.reserveCpu === undefined ? undefined : parseCpus(f.reserveCpu, '--reserve-cpu'));
    setNum(r, 'MemoryBytes', f.reserveMemory === undefined ? undefined : parseSize(f.reserveMemory, '--reserve-memory'));
  }
}

function updateMode(spec: ServiceSpec, f: UpdateServiceFlags): void {
  if (f.replicas !== undefined) {
    const n = parseUint(f.replicas, '--replicas');
    if (!spec.Mode?.Replicated) throw new OptionError('replicas can only be used with replicated mode');
    spec.Mode.Replicated.Replicas = n;
  }
  if (f.maxConcurrent !== undefined) {
    const n = parseUint(f.maxConcurrent, '--max-concurrent');
    if (!spec.Mode?.ReplicatedJob) throw new OptionError('max-concurrent can only be used with replicated-job mode');
    spec.Mode.ReplicatedJob.MaxConcurrent = n;
  }
}

/** --rollback goes with -d and -q only (commander's defaults for the --no- flags are true). */
export function rollbackOnlyFlags(f: UpdateServiceFlags): boolean {
  return Object.entries(f).every(([k, v]) => v === undefined || ['rollback', 'detach', 'quiet'].includes(k) || ((k === 'resolveImage' || k === 'healthcheck') && v === true));
}

/**
 * The spec to send for `service update [flags] SERVICE`, from the spec the daemon returned.
 * The input is not modified.
 */
export async function updateServiceSpec(current: ServiceSpec, f: UpdateServiceFlags, deps: UpdateDeps): Promise<ServiceSpec> {
  const spec = structuredClone(current);
  if (f.rollback) {
    if (!rollbackOnlyFlags(f)) throw new OptionError('other flags may not be combined with --rollback');
    return spec;
  }
  const task = (spec.TaskTemplate ??= {});
  const cs = (task.ContainerSpec ??= {});

  spec.Labels = updateMap(spec.Labels, f.labelAdd, f.labelRm, (v) => parseLabels(v, '--label-add'));
  const labels = updateMap(cs.Labels, f.containerLabelAdd, f.containerLabelRm, (v) => parseLabels(v, '--container-label-add'));
  if (labels === undefined) delete cs.Labels;
  else cs.Labels = labels;
  setString(cs, 'Image', f.image);
  if (f.args !== undefined) {
    const words = parseShellWords(f.args, '--args');
    if (words.length) cs.Args = words;
    else delete cs.Args;
  }
  if (f.entrypoint !== undefined) {
    const words = parseShellWords(f.entrypoint, '--entrypoint');
    if (words.length) cs.Command = words;
    else delete cs.Command;
  }
  const env = updateEnv(cs.Env, f.envAdd, f.envRm, deps.lookupEnv);
  if (env) cs.Env = env;
  else delete cs.Env;
  setString(cs, 'Dir', f.workdir);
  setString(cs, 'User', f.user);
  setString(cs, 'Hostname', f.hostname);
  if (f.init !== undefined) cs.Init = f.init;
  setString(cs, 'Isolation', f.isolation);
  updateMounts(cs, f.mountAdd, f.mountRm);
  const sysctls = updateMap(cs.Sysctls, f.sysctlAdd, f.sysctlRm && Object.keys(parseKeyValues(f.sysctlRm, '--sysctl-rm')), (v) => parseKeyValues(v, '--sysctl-add'));
  if (sysctls && Object.keys(sysctls).length) cs.Sysctls = sysctls;
  else delete cs.Sysctls;
  updateUlimits(cs, f.ulimitAdd, f.ulimitRm);
  updateResources(task, f);
  if (f.oomScoreAdj !== undefined) {
    const v = parseInteger(f.oomScoreAdj, '--oom-score-adj');
    if (v) cs.OomScoreAdj = v;
    else delete cs.OomScoreAdj;
  }
  if (f.stopGracePeriod !== undefined) cs.StopGracePeriod = parseDuration(f.stopGracePeriod, '--stop-grace-period');
  const rp = restartPolicy(f, task.RestartPolicy);
  if (rp) task.RestartPolicy = rp;
  if (f.constraintAdd || f.constraintRm) {
    const placement = (task.Placement ??= {});
    const c = addRemoveSorted(placement.Constraints, f.constraintAdd, f.constraintRm);
    if (c) placement.Constraints = c;
    else delete placement.Constraints;
  }
  if (f.placementPrefAdd || f.placementPrefRm) {
    const placement = (task.Placement ??= {});
    const rm = new Set((f.placementPrefRm ?? []).map((p) => parsePlacementPref(p, '--placement-pref-rm').Spread.SpreadDescriptor));
    const prefs = (placement.Preferences ?? []).filter((p) => !(p.Spread && rm.has(p.Spread.SpreadDescriptor!)));
    prefs.push(...(f.placementPrefAdd ?? []).map((p) => parsePlacementPref(p, '--placement-pref-add')));
    if (prefs.length) placement.Preferences = prefs;
    else delete placement.Preferences;
  }
  await updateNetworks(task, f, deps);
  updateMode(spec, f);
  if (f.replicasMaxPerNode !== undefined) {
    const n = parseUint(f.replicasMaxPerNode, '--replicas-max-per-node');
    const placement = (task.Placement ??= {});
    if (n) placement.MaxReplicas = n;
    else delete placement.MaxReplicas;
  }
  const uc = updateConfig(f, 'update', spec.UpdateConfig);
  if (uc) spec.UpdateConfig = uc;
  const rc = updateConfig(f, 'rollback', spec.RollbackConfig);
  if (rc) spec.RollbackConfig = rc;
  if (f.endpointMode !== undefined) (spec.EndpointSpec ??= {}).Mode = oneOf(f.endpointMode.toLowerCase(), '--endpoint-mode', ENDPOINT_MODES);
  if (f.groupAdd || f.groupRm) {
    const g = addRemoveSorted(cs.Groups, f.groupAdd, f.groupRm);
    if (g) cs.Groups = g;
    else delete cs.Groups;
  }
  if (f.publishAdd || f.publishRm) {
    const ep = (spec.EndpointSpec ??= {});
    const ports = updatePorts(ep.Ports, f.publishAdd, f.publishRm);
    if (ports.length) ep.Ports = ports;
    else delete ep.Ports;
  }
  updateDns(cs, f);
  updateHosts(cs, f.hostAdd, f.hostRm);
  if (f.logDriver) task.LogDriver = { Name: f.logDriver, ...(f.logOpt?.length ? { Options: parseKeyValues(f.logOpt, '--log-opt') } : {}) };
  if (f.force) task.ForceUpdate = (task.ForceUpdate ?? 0) + 1;
  updateHealthcheck(cs, f);
  if (f.tty !== undefined) {
    if (f.tty) cs.TTY = true;
    else delete cs.TTY;
  }
  if (f.readOnly !== undefined) {
    if (f.readOnly) cs.ReadOnly = true;
    else delete cs.ReadOnly;
  }
  setString(cs, 'StopSignal', f.stopSignal);
  updateCapabilities(cs, f.capAdd, f.capDrop);
  await updateSecretsAndConfigs(cs, f, deps);
  // The docker client tags the image ("busybox" -> "busybox:latest") on every update.
  if (cs.Image) cs.Image = taggedImage(cs.Image);
  return spec;
}

/** --secret-add/-rm and --config-add/-rm: removals by name, then the additions appended. */
async function updateSecretsAndConfigs(cs: ContainerSpec, f: UpdateServiceFlags, deps: UpdateDeps): Promise<void> {
  const added = async (kind: FileRefKind, values: string[] | undefined) => {
    const refs = (values ?? []).map((v) => parseFileRef(v, kind, `--${kind}-add`));
    return deps.resolveFileRefs && refs.length ? deps.resolveFileRefs(kind, refs) : refs;
  };
  if (f.secretAdd || f.secretRm) {
    const secrets = updateFileRefs(cs.Secrets, secretReferences(await added('secret', f.secretAdd)), f.secretRm, (r) => r.SecretName);
    if (secrets.length) cs.Secrets = secrets;
    else delete cs.Secrets;
  }
  if (f.configAdd || f.configRm) {
    const configs = updateFileRefs(cs.Configs, configReferences(await added('config', f.configAdd)), f.configRm, (r) => r.ConfigName);
    if (configs.length) cs.Configs = configs;
    else delete cs.Configs;
  }
}

/**
 * Parse every update flag before anything is sent (a bad value is a flag error, as docker's
 * flag parsing makes it): the flags are applied to a spec that accepts any of them.
 */
export async function checkUpdateFlags(f: UpdateServiceFlags, deps: SpecDeps): Promise<void> {
  const any: ServiceSpec = { TaskTemplate: { ContainerSpec: {} }, Mode: { Replicated: {}, ReplicatedJob: {} } };
  await updateServiceSpec(any, f, { ...deps, resolveNetwork: async (n) => n });
}
