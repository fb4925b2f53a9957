// docker service ls rows and docker service inspect --pretty.
import { contextRow, withMethods, type Row } from './formatter';
import { humanDuration, truncateId } from './human';
import { bytesSize, displayImage, goDuration, goFloat } from './swarm';
import type { PortConfig, Service, UpdateConfig } from './swarm-types';

export const SERVICE_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.Mode}}\t{{.Replicas}}\t{{.Image}}\t{{.Ports}}';
export const SERVICE_HEADERS: Row = withMethods({ ID: 'ID', Name: 'NAME', Mode: 'MODE', Replicas: 'REPLICAS', Image: 'IMAGE', Ports: 'PORTS' }, {});

export function serviceMode(s: Service): string {
  const m = s.Spec.Mode ?? {};
  if (m.Global) return 'global';
  if (m.Replicated) return 'replicated';
  if (m.ReplicatedJob) return 'replicated job';
  if (m.GlobalJob) return 'global job';
  return '';
}

/** REPLICAS: running/desired from ServiceStatus (GET /services?status=true), with job completions or the per-node cap. */
export function replicasColumn(s: Service): string {
  const st = s.ServiceStatus ?? {};
  const running = st.RunningTasks ?? 0;
  const desired = st.DesiredTasks ?? 0;
  const completed = st.CompletedTasks ?? 0;
  const m = s.Spec.Mode ?? {};
  if (m.ReplicatedJob) return `${running}/${desired} (${completed}/${m.ReplicatedJob.TotalCompletions ?? 0} completed)`;
  if (m.GlobalJob) return `${running}/${desired} (${completed}/${desired + completed} completed)`;
  const max = m.Replicated ? (s.Spec.TaskTemplate?.Placement?.MaxReplicas ?? 0) : 0;
  if (max > 0) return `${running}/${desired} (max ${max} per node)`;
  return `${running}/${desired}`;
}

/** PORTS: ingress ports as "*:published->target/proto", consecutive ports merged into ranges. */
export function servicePorts(ports: PortConfig[] | null | undefined): string {
  if (!ports) return '';
  const sorted = [...ports].sort((a, b) => ((a.Protocol ?? '') === (b.Protocol ?? '') ? (a.PublishedPort ?? 0) - (b.PublishedPort ?? 0) : (a.Protocol ?? '') < (b.Protocol ?? '') ? -1 : 1));
  const out: string[] = [];
  let r = { pStart: 0, pEnd: 0, tStart: 0, tEnd: 0, proto: '' };
  const show = () => {
    const pub = r.pEnd > r.pStart ? `${r.pStart}-${r.pEnd}` : `${r.pStart}`;
    const tgt = r.tEnd > r.tStart ? `${r.tStart}-${r.tEnd}` : `${r.tStart}`;
    out.push(`*:${pub}->${tgt}/${r.proto}`);
  };
  for (const p of sorted) {
    if (p.PublishMode !== 'ingress') continue;
    const pub = p.PublishedPort ?? 0;
    const tgt = p.TargetPort ?? 0;
    const isRange = r.tEnd !== r.tStart;
    // docker compares as unsigned integers: a lower port is never "adjacent"
    const gap = (a: number, b: number) => (a >= b ? a - b : Number.MAX_SAFE_INTEGER);
    if ((p.Protocol ?? '') !== r.proto || gap(pub, r.pEnd) > 1 || gap(tgt, r.tEnd) > 1 || (isRange && tgt <= r.tEnd)) {
      if (r.pStart > 0) show();
      r = { pStart: pub, pEnd: pub, tStart: tgt, tEnd: tgt, proto: p.Protocol ?? '' };
      continue;
    }
    r.pEnd = pub;
    r.tEnd = tgt;
  }
  if (r.pStart > 0) show();
  return out.join(', ');
}

export function serviceRow(s: Service): Row {
  return contextRow({
    ID: truncateId(s.ID),
    Image: displayImage(s.Spec.TaskTemplate?.ContainerSpec?.Image),
    Mode: serviceMode(s),
    Name: s.Spec.Name ?? '',
    Ports: servicePorts(s.Endpoint?.Ports),
    Replicas: replicasColumn(s),
  });
}

const goList = (xs: string[]) => `[${xs.join(' ')}]`;
const ago = (iso: string | undefined, now: number) => `${humanDuration(now - Date.parse(iso ?? ''))} ago`;

function updateConfigLines(title: string, orderLabel: string, u: UpdateConfig): string[] {
  const lines = [`${title}:`, ` Parallelism:\t${u.Parallelism ?? 0}`];
  if ((u.Delay ?? 0) > 0) lines.push(` Delay:\t\t${goDuration(u.Delay!)}`);
  lines.push(` On failure:\t${u.FailureAction ?? ''}`);
  if ((u.Monitor ?? 0) > 0) lines.push(` Monitoring Period: ${goDuration(u.Monitor!)}`);
  lines.push(` Max failure ratio: ${goFloat(u.MaxFailureRatio ?? 0)}`, ` ${orderLabel}${u.Order ?? ''}`);
  return lines;
}

/**
 * docker service inspect --pretty for one service; `networkNames` maps network IDs to names
 * (docker looks each one up). Starts with an empty line and ends with one, as docker's does.
 */
export function servicePretty(s: Service, networkNames: Record<string, string> = {}, now = Date.now()): string {
  const spec = s.Spec;
  const task = spec.TaskTemplate ?? {};
  const cs = task.ContainerSpec ?? {};
  const out: string[] = ['', `ID:\t\t${s.ID}`, `Name:\t\t${spec.Name ?? ''}`];
  const labels = Object.keys(spec.Labels ?? {}).sort();
  if (labels.length) out.push('Labels:', ...labels.map((k) => ` ${k}${spec.Labels![k] ? `=${spec.Labels![k]}` : ''}`));
  const mode = spec.Mode ?? {};
  if (mode.Global) out.push('Service Mode:\tGlobal');
  else if (mode.Replicated) {
    out.push('Service Mode:\tReplicated');
    if (mode.Replicated.Replicas !== undefined) out.push(` Replicas:\t${mode.Replicated.Replicas}`);
  } else out.push('Service Mode:');
  const us = s.UpdateStatus;
  if (us && us.State) {
    out.push('UpdateStatus:', ` State:\t\t${us.State}`);
    if (us.StartedAt) out.push(` Started:\t${ago(us.StartedAt, now)}`);
    if (us.State === 'completed' && us.CompletedAt) out.push(` Completed:\t${ago(us.CompletedAt, now)}`);
    out.push(` Message:\t${us.Message ?? ''}`);
  }
  out.push('Placement:');
  const pl = task.Placement;
  if (pl?.Constraints?.length) out.push(` Constraints:\t${goList(pl.Constraints)}`);
  const prefs = (pl?.Preferences ?? []).filter((p) => p.Spread).map((p) => `spread=${p.Spread!.SpreadDescriptor}`);
  if (prefs.length) out.push(` Preferences:   ${goList(prefs)}`);
  if (pl?.MaxReplicas) out.push(` Max Replicas Per Node:   ${pl.MaxReplicas}`);
  if (spec.UpdateConfig) out.push(...updateConfigLines('UpdateConfig', 'Update order:      ', spec.UpdateConfig));
  if (spec.RollbackConfig) out.push(...updateConfigLines('RollbackConfig', 'Rollback order:    ', spec.RollbackConfig));
  out.push('ContainerSpec:', ` Image:\t\t${cs.Image ?? ''}`);
  if (cs.Args?.length) out.push(` Args:\t\t${cs.Args.map((a) => `${a} `).join('')}`);
  if (cs.Env?.length) out.push(` Env:\t\t${cs.Env.map((e) => `${e} `).join('')}`);
  if (cs.Dir) out.push(` Dir:\t\t${cs.Dir}`);
  if (cs.Init !== undefined && cs.Init !== null) out.push(` Init:\t\t${cs.Init}`);
  if (cs.User) out.push(` User: ${cs.User}`);
  if (cs.CapabilityAdd?.length || cs.CapabilityDrop?.length) {
    out.push('Capabilities:');
    if (cs.CapabilityAdd?.length) out.push(` Add: ${cs.CapabilityAdd.join(', ')}`);
    if (cs.CapabilityDrop?.length) out.push(` Drop: ${cs.CapabilityDrop.join(', ')}`);
  }
  const sysctls = Object.keys(cs.Sysctls ?? {}).sort();
  if (sysctls.length) out.push('SysCtls:', ...sysctls.map((k) => ` ${k}${cs.Sysctls![k] ? `: ${cs.Sysctls![k]}` : ''}`));
  const ulimits = [...(cs.Ulimits ?? [])].sort((a, b) => (a.Name! < b.Name! ? -1 : 1));
  if (ulimits.length) out.push('Ulimits:', ...ulimits.map((u) => ` ${u.Name}: ${u.Soft}:${u.Hard}`));
  if (cs.Mounts?.length) {
    out.push('Mounts:');
    for (const m of cs.Mounts) out.push(` Target:\t${m.Target}`, `  Source:\t${m.Source ?? ''}`, `  ReadOnly:\t${!!m.ReadOnly}`, `  Type:\t\t${m.Type}`);
  }
  if (cs.Configs?.length) {
    out.push('Configs:');
    for (const c of cs.Configs) out.push(` Target:\t${c.File?.Name ?? ''}`, `  Source:\t${c.ConfigName ?? ''}`);
  }
  if (cs.Secrets?.length) {
    out.push('Secrets:');
    for (const c of cs.Secrets) out.push(` Target:\t${c.File?.Name ?? ''}`, `  Source:\t${c.SecretName ?? ''}`);
  }
  if (task.LogDriver) {
    out.push('Log Driver:');
    if (task.LogDriver.Name) out.push(` Name:\t\t${task.LogDriver.Name}`);
    const opts = Object.keys(task.LogDriver.Options ?? {}).sort();
    if (opts.length) out.push(' LogOpts:', ...opts.map((k) => `  ${k}${task.LogDriver!.Options![k] ? `:       ${task.LogDriver!.Options![k]}` : ''}`));
    out.push('');
  }
  const res = task.Resources;
  if (res) {
    out.push('Resources:');
    const r = res.Reservations ?? {};
    if ((r.NanoCPUs ?? 0) > 0 || (r.MemoryBytes ?? 0) > 0) {
      out.push(' Reservations:');
      if ((r.NanoCPUs ?? 0) > 0) out.push(`  CPU:\t\t${goFloat(r.NanoCPUs! / 1e9)}`);
      if (r.MemoryBytes) out.push(`  Memory:\t${bytesSize(r.MemoryBytes)}`);
    }
    const l = res.Limits ?? {};
    if ((l.NanoCPUs ?? 0) > 0 || (l.MemoryBytes ?? 0) > 0 || (l.Pids ?? 0) > 0) {
      out.push(' Limits:');
      if ((l.NanoCPUs ?? 0) > 0) out.push(`  CPU:\t\t${goFloat(l.NanoCPUs! / 1e9)}`);
      if (l.MemoryBytes) out.push(`  Memory:\t${bytesSize(l.MemoryBytes)}`);
    }
  }
  if ((res?.Limits?.Pids ?? 0) > 0) out.push(`  PIDs:\t\t${res!.Limits!.Pids}`);
  if (task.Networks?.length) out.push(`Networks:${task.Networks.map((n) => ` ${networkNames[n.Target ?? ''] ?? n.Target ?? ''}`).join('')} `);
  out.push(`Endpoint Mode:\t${spec.EndpointSpec?.Mode ?? ''}`);
  const ports = s.Endpoint?.Ports ?? [];
  if (ports.length) {
    out.push('Ports:');
    for (const p of ports) out.push(` PublishedPort = ${p.PublishedPort ?? 0}`, `  Protocol = ${p.Protocol ?? ''}`, `  TargetPort = ${p.TargetPort ?? 0}`, `  PublishMode = ${p.PublishMode ?? ''}`);
    out[out.length - 1] += ' ';
  }
  const hc = cs.Healthcheck;
  if (hc) {
    out.push(' Healthcheck:', `  Interval = ${goDuration(hc.Interval ?? 0)}`, `  Retries = ${hc.Retries ?? 0}`, `  StartPeriod =\t${goDuration(hc.StartPeriod ?? 0)}`, `  Timeout =\t${goDuration(hc.Timeout ?? 0)}`);
    if (hc.Test?.length) {
      out.push('  Tests:', ...hc.Test.map((t) => `\t Test = ${t}`));
      out[out.length - 1] += ' ';
    }
  }
  return `${out.join('\n')}\n\n`;
}
