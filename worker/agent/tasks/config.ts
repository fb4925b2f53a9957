// A Task's container, as the engine's create body: the mapping swarm's container adapter
// makes from a ContainerSpec, written from the API documents. Pure; the engine validates the
// values (mount paths, signals, sysctls ...) and its errors name the fields.
import { invalid } from '../../../shared/errors';
import type { ContainerSpec, EndpointPortConfig, Mount, Privileges } from '../../../shared/swarm';
import type { CreateRequest, HostConfig } from '../../engine/containers';
import type { MountRequest, PortMap } from '../../engine/contracts';
import { familiarString, parseNormalizedTagged } from '../../engine/images/reference';
import { expandContainerSpec, templateContext } from './template';
import type { AgentTask, NodeRef, TaskNetworking } from './types';

/** The label that ties a container to its task; the agent finds its containers by it. */
export const TASK_ID_LABEL = 'com.docker.swarm.task.id';
export const STACK_NAMESPACE_LABEL = 'com.docker.stack.namespace';

/** The default: the node's bridge network (overlay attachments come later through TaskNetworking). */
export const DEFAULT_NETWORKING: TaskNetworking = { NetworkMode: 'default', EndpointsConfig: {} };

/** Docker's default stop grace period for service tasks. */
export const DEFAULT_STOP_GRACE_S = 10;

export interface TaskContainer {
  /** `<service>.<slot>.<task id>`, or `<service>.<node id>.<task id>` without a slot. */
  name: string;
  body: CreateRequest;
}

function serviceName(task: AgentTask): string {
  return task.ServiceAnnotations?.Name || task.ServiceID;
}

/** The task's name as swarm shows it: `<service>.<slot>` or `<service>.<node id>` (global). */
export function taskDisplayName(task: AgentTask, node?: NodeRef): string {
  const slot = task.Slot ? String(task.Slot) : task.NodeID || node?.ID || '';
  return `${serviceName(task)}.${slot}`;
}

/** The container's name: the task's own Name when the orchestrator set one, else `<svc>.<slot>.<id>`. */
export function taskContainerName(task: AgentTask, node?: NodeRef): string {
  return task.Name || `${taskDisplayName(task, node)}.${task.ID}`;
}

/** Seconds the container gets between its stop signal and SIGKILL (StopGracePeriod, rounded up). */
export function stopGraceSeconds(task: AgentTask): number {
  const ns = task.Spec.ContainerSpec?.StopGracePeriod;
  return ns !== undefined && ns >= 0 ? Math.ceil(ns / 1e9) : DEFAULT_STOP_GRACE_S;
}

/** Host-mode published ports of the task (allocated ones first, else the service's request). */
export function hostModePorts(task: AgentTask): EndpointPortConfig[] {
  const ports = task.Endpoint?.Ports ?? task.Endpoint?.Spec?.Ports ?? [];
  return ports.filter((p) => p.PublishMode === 'host' && p.TargetPort);
}

/** "80/tcp": the engine's port key for a port config. */
export function portKey(p: EndpointPortConfig): string {
  return `${p.TargetPort}/${(p.Protocol || 'tcp').toLowerCase()}`;
}

/** "busybox" -> "busybox:latest", as swarm pins a reference without tag or digest. */
export function taskImage(image: string): string {
  try {
    return familiarString(parseNormalizedTagged(image));
  } catch {
    return image; // the engine reports the malformed reference
  }
}

function labelsFor(task: AgentTask, spec: ContainerSpec, node: NodeRef): Record<string, string> {
  const labels: Record<string, string> = { ...(spec.Labels ?? {}), ...(task.Labels ?? {}) };
  const ns = task.ServiceAnnotations?.Labels?.[STACK_NAMESPACE_LABEL];
  if (ns !== undefined) labels[STACK_NAMESPACE_LABEL] = ns;
  // System labels last: a user label cannot pose as another task.
  Object.assign(labels, {
    'com.docker.swarm.task': '',
    [TASK_ID_LABEL]: task.ID,
    'com.docker.swarm.task.name': taskContainerName(task, node),
    'com.docker.swarm.node.id': task.NodeID || node.ID,
    'com.docker.swarm.service.id': task.ServiceID,
    'com.docker.swarm.service.name': serviceName(task),
  });
  return labels;
}

function mountFor(m: Mount, i: number): MountRequest {
  const where = `ContainerSpec.Mounts[${i}]`;
  if (m.Type !== 'bind' && m.Type !== 'volume' && m.Type !== 'tmpfs') {
    throw invalid(`${where}.Type: mount type "${m.Type ?? ''}" is not supported on this node (bind, volume or tmpfs)`);
  }
  if (!m.Target) throw invalid(`${where}.Target must not be empty`);
  const out: MountRequest = { Type: m.Type, Target: m.Target };
  if (m.Source) out.Source = m.Source;
  if (m.ReadOnly) out.ReadOnly = true;
  if (m.Type === 'bind' && m.BindOptions) {
    const b: NonNullable<MountRequest['BindOptions']> = {};
    if (m.BindOptions.Propagation) b.Propagation = m.BindOptions.Propagation;
    if (m.BindOptions.CreateMountpoint) b.CreateMountpoint = true;
    out.BindOptions = b;
  }
  if (m.Type === 'volume' && m.VolumeOptions) {
    if (m.VolumeOptions.Subpath) throw invalid(`${where}.VolumeOptions.Subpath is not supported on this node`);
    const v: NonNullable<MountRequest['VolumeOptions']> = {};
    if (m.VolumeOptions.NoCopy) v.NoCopy = true;
    if (m.VolumeOptions.Labels) v.Labels = { ...m.VolumeOptions.Labels };
    if (m.VolumeOptions.DriverConfig) v.DriverConfig = { ...m.VolumeOptions.DriverConfig };
    out.VolumeOptions = v;
  }
  if (m.Type === 'tmpfs' && m.TmpfsOptions) {
    const t: NonNullable<MountRequest['TmpfsOptions']> = {};
    if (m.TmpfsOptions.SizeBytes) t.SizeBytes = m.TmpfsOptions.SizeBytes;
    if (m.TmpfsOptions.Mode) t.Mode = m.TmpfsOptions.Mode;
    out.TmpfsOptions = t;
  }
  return out;
}

/** Privileges the engine can honour, as --security-opt values. */
function securityOpts(p: Privileges | undefined): string[] {
  const out: string[] = [];
  if (p?.NoNewPrivileges) out.push('no-new-privileges');
  if (p?.Seccomp?.Mode === 'unconfined') out.push('seccomp=unconfined');
  else if (p?.Seccomp?.Mode === 'custom') {
    if (!p.Seccomp.Profile) throw invalid('ContainerSpec.Privileges.Seccomp.Profile is required for a custom seccomp mode');
    out.push(`seccomp=${Buffer.from(p.Seccomp.Profile, 'base64').toString()}`);
  }
  return out;
}

/** "IP name [aliases...]" (hosts(5), swarm's format) -> "name:IP" per name (the engine's). */
function extraHosts(hosts: string[] | undefined): string[] {
  const out: string[] = [];
  for (const line of hosts ?? []) {
    const [ip, ...names] = line.trim().split(/\s+/);
    for (const n of names) out.push(`${n}:${ip}`);
  }
  return out;
}

/**
 * The create body and name for a task's container. Throws INVALID_ARGUMENT (naming the field)
 * for what this node cannot run; the controller turns that into a REJECTED task.
 */
export function containerConfigFor(task: AgentTask, node: NodeRef, networking: TaskNetworking = DEFAULT_NETWORKING): TaskContainer {
  const raw = task.Spec.ContainerSpec;
  if (!raw) throw invalid(`task ${task.ID}: Spec.ContainerSpec is required (no other runtime is supported)`);
  if (!raw.Image) throw invalid(`task ${task.ID}: ContainerSpec.Image must not be empty`);
  const name = taskContainerName(task, node);
  const spec = expandContainerSpec(raw, templateContext(task, node, name));
  const image = raw.Image;

  const ports = hostModePorts(task);
  const portBindings: PortMap = {};
  const exposed: Record<string, object> = {};
  for (const p of ports) {
    // No published port: the engine picks a free one, and PortStatus reports it.
    portBindings[portKey(p)] = [{ HostIp: '', HostPort: p.PublishedPort ? String(p.PublishedPort) : '' }];
    exposed[portKey(p)] = {};
  }

  const limits = task.Spec.Resources?.Limits;
  const hc: Partial<HostConfig> = {
    NetworkMode: networking.NetworkMode,
    // The orchestrator replaces failed tasks; the engine must not restart them behind its back.
    RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
    PortBindings: portBindings,
  };
  if (limits?.NanoCPUs) hc.NanoCpus = limits.NanoCPUs;
  if (limits?.MemoryBytes) hc.Memory = limits.MemoryBytes;
  if (limits?.Pids) hc.PidsLimit = limits.Pids;
  if (spec.Mounts?.length) hc.Mounts = spec.Mounts.map(mountFor);
  if (spec.ReadOnly) hc.ReadonlyRootfs = true;
  if (spec.Init !== undefined && spec.Init !== null) hc.Init = spec.Init;
  if (spec.CapabilityAdd?.length) hc.CapAdd = [...spec.CapabilityAdd];
  if (spec.CapabilityDrop?.length) hc.CapDrop = [...spec.CapabilityDrop];
  if (spec.Sysctls && Object.keys(spec.Sysctls).length) hc.Sysctls = { ...spec.Sysctls };
  if (spec.Ulimits?.length) hc.Ulimits = spec.Ulimits.map((u) => ({ Name: u.Name ?? '', Soft: u.Soft ?? 0, Hard: u.Hard ?? 0 }));
  if (spec.Groups?.length) hc.GroupAdd = [...spec.Groups];
  if (spec.OomScoreAdj) hc.OomScoreAdj = spec.OomScoreAdj;
  if (spec.DNSConfig?.Nameservers?.length) hc.Dns = [...spec.DNSConfig.Nameservers];
  if (spec.DNSConfig?.Search?.length) hc.DnsSearch = [...spec.DNSConfig.Search];
  if (spec.DNSConfig?.Options?.length) hc.DnsOptions = [...spec.DNSConfig.Options];
  const hosts = extraHosts(spec.Hosts);
  if (hosts.length) hc.ExtraHosts = hosts;
  const sec = securityOpts(spec.Privileges);
  if (sec.length) hc.SecurityOpt = sec;
  const logDriver = task.Spec.LogDriver;
  if (logDriver?.Name) hc.LogConfig = { Type: logDriver.Name, Config: { ...(logDriver.Options ?? {}) } };

  const body: CreateRequest = {
    Image: taskImage(image),
    Labels: labelsFor(task, spec, node),
    Env: [...(spec.Env ?? [])],
    Tty: !!spec.TTY,
    OpenStdin: !!spec.OpenStdin,
    StopTimeout: stopGraceSeconds(task),
    HostConfig: hc,
    NetworkingConfig: { EndpointsConfig: { ...networking.EndpointsConfig } },
  };
  // Command replaces the image's entrypoint (and then its Cmd too); Args alone feed the entrypoint.
  if (spec.Command?.length) body.Entrypoint = [...spec.Command];
  if (spec.Args?.length) body.Cmd = [...spec.Args];
  if (spec.Dir) body.WorkingDir = spec.Dir;
  if (spec.User) body.User = spec.User;
  if (spec.Hostname) body.Hostname = spec.Hostname;
  if (spec.StopSignal) body.StopSignal = spec.StopSignal;
  if (spec.Healthcheck) body.Healthcheck = { ...spec.Healthcheck };
  if (ports.length) body.ExposedPorts = exposed;
  return { name, body };
}
