// The node fields the dispatcher writes: Description (what the agent reports about itself) and
// Status (ready with the address it connects from, or down). Pure, plus one read-modify-write
// helper that retries when another writer got there first.
import { invalid, isShoalError, ShoalError } from '../../shared/errors';
import type { Node, NodeDescription } from '../../shared/swarm';
import type { ClusterStore } from '../store';
import { canonicalJson } from './assignments';
import { WRITE_ATTEMPTS } from './config';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function str(o: Obj, key: string, where: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalid(`description.${where}${key} must be a string`);
  return v;
}

function num(o: Obj, key: string, where: string): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw invalid(`description.${where}${key} must be a non-negative number`);
  return v;
}

function obj(o: Obj, key: string, where: string): Obj | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) throw invalid(`description.${where}${key} must be an object`);
  return v;
}

function labels(v: Obj | undefined, where: string): Record<string, string> | undefined {
  if (!v) return undefined;
  for (const [k, val] of Object.entries(v)) if (typeof val !== 'string') throw invalid(`description.${where}.${k} must be a string`);
  return v as Record<string, string>;
}

/**
 * The NodeDescription an agent sent (JSON), keeping only the fields Docker's NodeDescription
 * has that an agent reports; INVALID_ARGUMENT naming the field when one has the wrong type.
 */
export function parseDescription(json: string): NodeDescription {
  if (!json) return {};
  let d: unknown;
  try {
    d = JSON.parse(json);
  } catch {
    throw invalid('description is not JSON');
  }
  if (!isObj(d)) throw invalid('description must be a NodeDescription object');
  const out: NodeDescription = {};
  const hostname = str(d, 'Hostname', '');
  if (hostname !== undefined) out.Hostname = hostname;
  const platform = obj(d, 'Platform', '');
  if (platform) out.Platform = { Architecture: str(platform, 'Architecture', 'Platform.'), OS: str(platform, 'OS', 'Platform.') };
  const res = obj(d, 'Resources', '');
  if (res) {
    out.Resources = { NanoCPUs: num(res, 'NanoCPUs', 'Resources.'), MemoryBytes: num(res, 'MemoryBytes', 'Resources.') };
    if (res.GenericResources !== undefined) {
      if (!Array.isArray(res.GenericResources)) throw invalid('description.Resources.GenericResources must be a list');
      out.Resources.GenericResources = res.GenericResources as NonNullable<NodeDescription['Resources']>['GenericResources'];
    }
  }
  const engine = obj(d, 'Engine', '');
  if (engine) {
    out.Engine = { EngineVersion: str(engine, 'EngineVersion', 'Engine.'), Labels: labels(obj(engine, 'Labels', 'Engine.'), 'Engine.Labels') };
    if (engine.Plugins !== undefined) {
      if (!Array.isArray(engine.Plugins) || !engine.Plugins.every(isObj)) throw invalid('description.Engine.Plugins must be a list of objects');
      out.Engine.Plugins = engine.Plugins.map((p) => ({ Type: str(p, 'Type', 'Engine.Plugins[].'), Name: str(p, 'Name', 'Engine.Plugins[].') }));
    }
  }
  return JSON.parse(JSON.stringify(out)) as NodeDescription; // drops the undefined fields
}

/**
 * The host part of a grpc-js peer address ("1.2.3.4:5", "[::1]:5", "[::ffff:1.2.3.4]:5"). A
 * grpc-js server names an IPv6 peer without brackets ("::1:5"): its last field is the port.
 */
export function peerHost(remote: string): string {
  let host = remote.replace(/^ipv[46]:/, '');
  const bracket = /^\[([^\]]+)\](?::\d+)?$/.exec(host);
  if (bracket) host = bracket[1];
  else if (host.includes(':')) host = host.slice(0, host.lastIndexOf(':'));
  return host.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
}

/** The node with the agent's description and status READY at addr; undefined when nothing changes. */
export function readyNode(node: Node, description: NodeDescription, addr: string): Node | undefined {
  const Description: NodeDescription = { ...node.Description, ...description };
  const Status = { State: 'ready' as const, Addr: addr || node.Status?.Addr || '' };
  if (canonicalJson(Description) === canonicalJson(node.Description ?? {}) && canonicalJson(Status) === canonicalJson(node.Status ?? {})) return undefined;
  return { ...node, Description, Status };
}

/** The node DOWN with a reason (its address kept); undefined when it already is. */
export function downNode(node: Node, message: string): Node | undefined {
  if (node.Status?.State === 'down' && node.Status.Message === message) return undefined;
  return { ...node, Status: { ...node.Status, State: 'down', Message: message } };
}

/**
 * Read the node, change it, write it back with a version check; on a version conflict, read
 * again and redo the change (WRITE_ATTEMPTS times). `change` returns undefined for "leave as is".
 * The node as stored afterwards, or undefined when there is no such node.
 */
export async function changeNode(store: ClusterStore, nodeId: string, change: (n: Node) => Node | undefined): Promise<Node | undefined> {
  for (let attempt = 1; ; attempt++) {
    const node = await store.get<Node & { ID: string }>('nodes', nodeId);
    if (!node) return undefined;
    const next = change(node);
    if (!next) return node;
    try {
      return await store.update('nodes', next);
    } catch (err) {
      if (isShoalError(err, 'NOT_FOUND')) return undefined;
      if (!isShoalError(err, 'CONFLICT') || attempt >= WRITE_ATTEMPTS) throw err;
    }
  }
}

/** A call from a node that is not (any more) in the cluster: its certificate may still be valid, but it gets nothing. */
export function notRegistered(nodeId: string): ShoalError {
  return new ShoalError('NOT_FOUND', `node ${nodeId} is not registered in this cluster (removed?): join it again`);
}
