// What `compose` needs from the files beyond the stack plan, read from the same parsed
// (interpolated, positioned) trees: depends_on conditions, the exact restart policy, the
// files behind secrets and configs, network drivers, and where swarm-only keys sit (for the
// one-node warnings). Pure: trees in, facts out; later files override earlier ones.
import type { ParsedStackFile, Pos, StackIssue, StackWarning } from '../../shared/compose';

type PMap = ParsedStackFile['tree'];
type PNode = PMap extends { entries: Map<string, infer E> } ? (E extends { value: infer V } ? V : never) : never;

export type DependsCondition = 'service_started' | 'service_healthy' | 'service_completed_successfully';

export interface ServiceExtras {
  dependsOn: Map<string, DependsCondition>;
  /** The `restart:` value as written (no, always, on-failure[:N], unless-stopped). */
  restart?: string;
  /** deploy.restart_policy is written (the plan also carries `restart:` in that field). */
  deployRestart: boolean;
  /** deploy keys that have no effect on one node, with their place. */
  swarmOnly: Array<{ key: string; pos: Pos; why: string }>;
  /** secrets/configs entries whose uid, gid or mode a bind mount cannot apply. */
  ownership: Array<{ kind: 'secret' | 'config'; source: string; pos: Pos }>;
}

export interface FileObjectExtras {
  file?: string;
  external: boolean;
  driver?: string;
  pos: Pos;
}

export interface ComposeExtras {
  services: Map<string, ServiceExtras>;
  /** Network key -> the driver written in the file (with its place). */
  networkDrivers: Map<string, { driver: string; pos: Pos }>;
  secrets: Map<string, FileObjectExtras>;
  configs: Map<string, FileObjectExtras>;
}

const isMap = (n: PNode | undefined): n is PMap => n?.kind === 'map';
const scalar = (n: PNode | undefined): string | undefined => (n?.kind === 'scalar' && n.value !== null ? String(n.value) : undefined);
const get = (m: PMap | undefined, k: string): PNode | undefined => m?.entries.get(k)?.value;

const SWARM_DEPLOY_KEYS: Record<string, string> = {
  placement: 'placement needs a swarm',
  update_config: 'there are no rolling updates without a swarm; changed containers are recreated',
  rollback_config: 'there are no rollbacks without a swarm',
  endpoint_mode: 'there is no service VIP without a swarm; the service name resolves to its containers',
};

function serviceExtras(into: ServiceExtras, m: PMap): void {
  const deps = get(m, 'depends_on');
  if (deps?.kind === 'seq') for (const it of deps.items) {
    const name = scalar(it);
    if (name !== undefined) into.dependsOn.set(name, 'service_started');
  }
  if (isMap(deps)) for (const [name, e] of deps.entries) {
    const c = scalar(get(isMap(e.value) ? e.value : undefined, 'condition'));
    into.dependsOn.set(name, (c as DependsCondition | undefined) ?? 'service_started');
  }
  const restart = scalar(get(m, 'restart'));
  if (restart !== undefined) into.restart = restart;
  const deploy = get(m, 'deploy');
  if (isMap(deploy)) {
    for (const [key, e] of deploy.entries) {
      if (SWARM_DEPLOY_KEYS[key]) into.swarmOnly.push({ key: `deploy.${key}`, pos: e.keyPos, why: SWARM_DEPLOY_KEYS[key] });
    }
    if (deploy.entries.has('restart_policy')) into.deployRestart = true;
    const mode = deploy.entries.get('mode');
    const modeValue = scalar(mode?.value);
    if (mode && modeValue && modeValue !== 'replicated') into.swarmOnly.push({ key: 'deploy.mode', pos: mode.keyPos, why: `mode ${modeValue} runs one container per service on one node` });
    const res = get(deploy, 'resources');
    const reservations = isMap(res) ? res.entries.get('reservations') : undefined;
    if (reservations) into.swarmOnly.push({ key: 'deploy.resources.reservations', pos: reservations.keyPos, why: 'reservations only guide a swarm scheduler' });
  }
  for (const kind of ['secret', 'config'] as const) {
    const refs = get(m, `${kind}s`);
    if (refs?.kind !== 'seq') continue;
    for (const it of refs.items) {
      if (!isMap(it)) continue;
      const source = scalar(get(it, 'source'));
      if (source !== undefined && ['uid', 'gid', 'mode'].some((k) => it.entries.has(k))) into.ownership.push({ kind, source, pos: it.pos });
    }
  }
}

function fileObjects(into: Map<string, FileObjectExtras>, m: PNode | undefined): void {
  if (!isMap(m)) return;
  for (const [key, e] of m.entries) {
    if (key.startsWith('x-') || !isMap(e.value)) continue;
    const o: FileObjectExtras = into.get(key) ?? { external: false, pos: e.keyPos };
    const file = scalar(get(e.value, 'file'));
    if (file !== undefined) o.file = file;
    const ext = get(e.value, 'external');
    if (ext !== undefined) o.external = isMap(ext) || scalar(ext) === 'true';
    const driver = scalar(get(e.value, 'driver'));
    if (driver !== undefined) o.driver = driver;
    o.pos = e.keyPos;
    into.set(key, o);
  }
}

export function readExtras(files: readonly ParsedStackFile[]): ComposeExtras {
  const out: ComposeExtras = { services: new Map(), networkDrivers: new Map(), secrets: new Map(), configs: new Map() };
  for (const f of files) {
    const services = get(f.tree, 'services');
    if (isMap(services)) for (const [name, e] of services.entries) {
      if (name.startsWith('x-') || !isMap(e.value)) continue;
      const s = out.services.get(name) ?? { dependsOn: new Map(), deployRestart: false, swarmOnly: [], ownership: [] };
      serviceExtras(s, e.value);
      out.services.set(name, s);
    }
    const networks = get(f.tree, 'networks');
    if (isMap(networks)) for (const [key, e] of networks.entries) {
      const d = isMap(e.value) ? e.value.entries.get('driver') : undefined;
      const driver = scalar(d?.value);
      if (d && driver !== undefined) out.networkDrivers.set(key, { driver, pos: d.keyPos });
    }
    fileObjects(out.secrets, get(f.tree, 'secrets'));
    fileObjects(out.configs, get(f.tree, 'configs'));
  }
  return out;
}

/** Warnings for what one node does not apply, each at its place in the file. */
export function oneNodeWarnings(x: ComposeExtras): StackWarning[] {
  const out: StackWarning[] = [];
  for (const [service, s] of x.services) {
    for (const w of s.swarmOnly) out.push({ kind: 'ignored', service, key: w.key, pos: w.pos, message: `service ${service}: ignoring '${w.key}' on one node: ${w.why}` });
    for (const o of s.ownership) out.push({ kind: 'ignored', service, key: `${o.kind}s`, pos: o.pos, message: `service ${service}: ${o.kind} ${o.source} is bind-mounted from its file; uid, gid and mode are not applied` });
  }
  for (const [key, d] of x.networkDrivers) {
    if (d.driver === 'overlay') out.push({ kind: 'ignored', key: `networks.${key}.driver`, pos: d.pos, message: `network ${key}: driver overlay needs a swarm; a bridge network is created on one node` });
  }
  return out;
}

/** Errors for what one node cannot provide: swarm-held secrets and configs that services use. */
export function oneNodeErrors(x: ComposeExtras, used: { secrets: Set<string>; configs: Set<string> }): StackIssue[] {
  const out: StackIssue[] = [];
  for (const [kind, objs, keys] of [['secret', x.secrets, used.secrets], ['config', x.configs, used.configs]] as const) {
    for (const [key, o] of objs) {
      if (!keys.has(key)) continue;
      if (o.external) out.push({ ...o.pos, message: `${kind}s.${key}: external ${kind}s live in a swarm; on one node a ${kind} needs a file` });
      else if (o.driver !== undefined) out.push({ ...o.pos, message: `${kind}s.${key}: ${kind} drivers need a swarm; on one node a ${kind} needs a file` });
    }
  }
  return out;
}
