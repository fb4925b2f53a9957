// A merged stack file tree -> the validated model, with every error and warning collected.
import type { Issues, Pos } from './errors';
import type { ExternalRef, FileObjectModel, NetworkModel, StackModel, VolumeModel } from './model';
import { decodeService } from './decode-service';
import { child, isPMap, isPScalar, type PMap, type PNode } from './node';
import { Reader } from './reader';
import type { StackWarning } from './warnings';

const TOP_KEYS = ['version', 'services', 'networks', 'volumes', 'secrets', 'configs'];
const NAME_RE = /^[a-zA-Z0-9._-]+$/;
/** Compose file versions a docker CLI 28 stack deploy takes. */
const VERSION_RE = /^3(\.([0-9]|1[0-3]))?$/;

/** Check one file's version on its own (every -c file must be a 3.x file). */
export function checkVersion(r: Reader, root: PMap): string | undefined {
  const node = child(root, 'version');
  if (node === undefined) return undefined;
  if (isPScalar(node) && typeof node.value === 'number') return r.error(node, `version must be a string: write version: "${node.value}"`);
  const v = r.str(node, 'version');
  if (v !== undefined && !VERSION_RE.test(v)) return r.error(node, `version '${v}' is not supported: a stack file is version 3.0 to 3.13`);
  return v;
}

export function decodeStack(root: PMap, issues: Issues, warn: (w: StackWarning) => void): StackModel {
  const r = new Reader(issues);
  r.map(root, 'the stack file', TOP_KEYS, { extensions: true });
  const model: StackModel = { version: checkVersion(r, root), services: new Map(), networks: new Map(), volumes: new Map(), secrets: new Map(), configs: new Map() };

  const services = child(root, 'services');
  if (services !== undefined) {
    if (!isPMap(services)) r.error(services, 'services must be a mapping of service names');
    else for (const [name, e] of services.entries) {
      if (name.startsWith('x-')) continue;
      const s = decodeService(r, name, e.keyPos, e.value, warn);
      if (s) model.services.set(name, s);
    }
  }
  eachNamed(r, root, 'networks', (name, node, pos) => model.networks.set(name, network(r, name, node, pos)));
  eachNamed(r, root, 'volumes', (name, node, pos) => model.volumes.set(name, volume(r, name, node, pos)));
  eachNamed(r, root, 'secrets', (name, node, pos) => model.secrets.set(name, fileObject(r, 'secret', name, node, pos)));
  eachNamed(r, root, 'configs', (name, node, pos) => model.configs.set(name, fileObject(r, 'config', name, node, pos)));
  checkReferences(r, model);
  return model;
}

function eachNamed(r: Reader, root: PMap, key: string, fn: (name: string, node: PNode, pos: Pos) => void): void {
  const node = child(root, key);
  if (node === undefined || (isPScalar(node) && node.value === null)) return;
  if (!isPMap(node)) {
    r.error(node, `${key} must be a mapping of names`);
    return;
  }
  for (const [name, e] of node.entries) {
    if (name.startsWith('x-')) continue;
    if (!NAME_RE.test(name)) r.error(e.keyPos, `${key}: '${name}' is not a valid name (letters, digits, '.', '_' and '-')`);
    fn(name, e.value, e.keyPos);
  }
}

/** external: true | {name}, and name:, with docker's rule that they do not both name it. */
function external(r: Reader, m: PMap, path: string, kind: string): ExternalRef {
  const ref: ExternalRef = { external: false };
  const name = r.name(child(m, 'name'), `${path}.name`);
  if (name !== undefined) ref.name = name;
  const ext = child(m, 'external');
  if (ext === undefined) return ref;
  if (isPScalar(ext) && typeof ext.value === 'boolean') {
    ref.external = ext.value;
    return ref;
  }
  const em = r.map(ext, `${path}.external`, ['name']);
  if (!em) return ref;
  ref.external = true;
  const extName = r.name(child(em, 'name'), `${path}.external.name`);
  if (extName !== undefined) {
    if (name !== undefined) r.error(ext, `${path}: external.name and name conflict; only use ${kind}.name`);
    ref.name = extName;
  }
  return ref;
}

/** A key that cannot go with external: true. */
function refuseWithExternal(r: Reader, m: PMap, path: string, keys: string[]): void {
  for (const k of keys) {
    const e = m.entries.get(k);
    if (e) r.error(e.keyPos, `${path}: '${k}' cannot be set on an external ${path.split('.')[0].replace(/s$/, '')}`);
  }
}

function network(r: Reader, name: string, node: PNode, pos: Pos): NetworkModel {
  const path = `networks.${name}`;
  const m = r.map(node, path, ['name', 'driver', 'driver_opts', 'ipam', 'external', 'internal', 'attachable', 'labels'], { extensions: true, nullable: true });
  const out: NetworkModel = { pos, external: false, labels: {} };
  if (!m) return out;
  Object.assign(out, external(r, m, path, 'network'));
  if (out.external) refuseWithExternal(r, m, path, ['driver', 'driver_opts', 'ipam', 'internal', 'attachable', 'labels']);
  const driver = r.name(child(m, 'driver'), `${path}.driver`);
  if (driver !== undefined) out.driver = driver;
  const opts = r.options(child(m, 'driver_opts'), `${path}.driver_opts`);
  if (opts) out.driverOpts = opts;
  const ipam = r.map(child(m, 'ipam'), `${path}.ipam`, ['driver', 'config']);
  if (ipam) {
    out.ipam = { subnets: [] };
    const d = r.name(child(ipam, 'driver'), `${path}.ipam.driver`);
    if (d !== undefined) out.ipam.driver = d;
    r.list(child(ipam, 'config'), `${path}.ipam.config`)?.forEach((it, i) => {
      const c = r.map(it, `${path}.ipam.config[${i}]`, ['subnet']);
      const subnet = c && r.str(child(c, 'subnet'), `${path}.ipam.config[${i}].subnet`);
      if (subnet === undefined) return;
      if (!isCidr(subnet)) r.error(child(c!, 'subnet')!, `${path}.ipam.config[${i}].subnet: '${subnet}' is not a subnet in CIDR form`);
      else out.ipam!.subnets.push(subnet);
    });
  }
  const internal = r.bool(child(m, 'internal'), `${path}.internal`);
  if (internal !== undefined) out.internal = internal;
  const attachable = r.bool(child(m, 'attachable'), `${path}.attachable`);
  if (attachable !== undefined) out.attachable = attachable;
  out.labels = labels(r, child(m, 'labels'), `${path}.labels`);
  return out;
}

function isCidr(s: string): boolean {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(s);
  if (v4) return v4.slice(1, 5).every((o) => Number(o) <= 255) && Number(v4[5]) <= 32;
  const v6 = /^([0-9a-fA-F:]+)\/(\d{1,3})$/.exec(s);
  return !!v6 && v6[1].includes(':') && Number(v6[2]) <= 128;
}

function labels(r: Reader, node: PNode | undefined, path: string): Record<string, string> {
  return Object.fromEntries(Object.entries(r.listOrDict(node, path) ?? {}).map(([k, v]) => [k, v ?? '']));
}

function volume(r: Reader, name: string, node: PNode, pos: Pos): VolumeModel {
  const path = `volumes.${name}`;
  const m = r.map(node, path, ['name', 'driver', 'driver_opts', 'external', 'labels'], { extensions: true, nullable: true });
  const out: VolumeModel = { pos, external: false, labels: {} };
  if (!m) return out;
  Object.assign(out, external(r, m, path, 'volume'));
  if (out.external) refuseWithExternal(r, m, path, ['driver', 'driver_opts', 'labels']);
  const driver = r.name(child(m, 'driver'), `${path}.driver`);
  if (driver !== undefined) out.driver = driver;
  const opts = r.options(child(m, 'driver_opts'), `${path}.driver_opts`);
  if (opts) out.driverOpts = opts;
  out.labels = labels(r, child(m, 'labels'), `${path}.labels`);
  return out;
}

function fileObject(r: Reader, kind: 'secret' | 'config', name: string, node: PNode, pos: Pos): FileObjectModel {
  const path = `${kind}s.${name}`;
  const keys = kind === 'secret' ? ['name', 'file', 'external', 'labels', 'driver', 'driver_opts', 'template_driver'] : ['name', 'file', 'external', 'labels', 'template_driver'];
  const m = r.map(node, path, keys, { extensions: true });
  const out: FileObjectModel = { pos, kind, external: false, labels: {} };
  if (!m) return out;
  Object.assign(out, external(r, m, path, kind));
  const fileNode = child(m, 'file');
  const file = r.name(fileNode, `${path}.file`);
  if (file !== undefined) out.file = { path: file, pos: fileNode!.pos };
  const driver = r.name(child(m, 'driver'), `${path}.driver`);
  if (driver !== undefined) out.driver = driver;
  const opts = r.options(child(m, 'driver_opts'), `${path}.driver_opts`);
  if (opts) out.driverOpts = opts;
  const td = r.name(child(m, 'template_driver'), `${path}.template_driver`);
  if (td !== undefined) out.templateDriver = td;
  out.labels = labels(r, child(m, 'labels'), `${path}.labels`);
  if (out.external) refuseWithExternal(r, m, path, ['file', 'driver', 'driver_opts', 'labels', 'template_driver']);
  else if (out.driver !== undefined && out.file) r.error(fileNode!, `${path}: driver and file conflict; only use ${kind}.driver`);
  else if (out.driver === undefined && !out.file) r.error(pos, `${path} needs a file or external: true`);
  return out;
}

/** Every name a service uses must be defined, and depends_on must not loop. */
function checkReferences(r: Reader, model: StackModel): void {
  for (const [name, s] of model.services) {
    for (const n of s.networks ?? []) {
      if (n.name !== 'default' && !model.networks.has(n.name)) r.error(n.pos, `services.${name}.networks: network '${n.name}' is not defined in the top-level networks`);
    }
    for (const mnt of s.mounts) {
      if (mnt.spec.type === 'volume' && mnt.spec.source !== undefined && !model.volumes.has(mnt.spec.source)) {
        r.error(mnt.pos, `services.${name}.volumes: volume '${mnt.spec.source}' is not defined in the top-level volumes`);
      }
    }
    for (const ref of s.secrets) if (!model.secrets.has(ref.source)) r.error(ref.pos, `services.${name}.secrets: secret '${ref.source}' is not defined in the top-level secrets`);
    for (const ref of s.configs) if (!model.configs.has(ref.source)) r.error(ref.pos, `services.${name}.configs: config '${ref.source}' is not defined in the top-level configs`);
    for (const d of s.dependsOn) {
      if (d.name === name) r.error(d.pos, `services.${name}.depends_on: a service cannot depend on itself`);
      else if (!model.services.has(d.name)) r.error(d.pos, `services.${name}.depends_on: service '${d.name}' is not defined`);
    }
  }
  // A cycle would leave every service in it waiting for the others.
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, trail: string[]): void => {
    const s = model.services.get(name);
    if (!s || state.get(name) === 'done') return;
    state.set(name, 'visiting');
    for (const d of s.dependsOn) {
      if (d.name === name) continue;
      if (state.get(d.name) === 'visiting') {
        const cycle = [...trail.slice(trail.indexOf(d.name)), name, d.name];
        r.error(d.pos, `services.${name}.depends_on: dependency cycle ${cycle.join(' -> ')}`);
      } else visit(d.name, [...trail, name]);
    }
    state.set(name, 'done');
  };
  for (const name of model.services.keys()) visit(name, []);
}
