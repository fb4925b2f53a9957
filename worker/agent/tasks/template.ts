// Service templates: `docker service create --hostname "{{.Node.Hostname}}-{{.Task.Slot}}"`.
// Swarm expands placeholders in a task's Hostname, Env and mount paths on the node that runs
// it. Only Go-template field references (and `index` on label maps) are understood; anything
// else is refused with the field named, and the task is rejected.
import { invalid } from '../../../shared/errors';
import type { ContainerSpec } from '../../../shared/swarm';
import type { AgentTask, NodeRef } from './types';

export interface TemplateContext {
  Service: { ID: string; Name: string; Labels: Record<string, string> };
  Node: { ID: string; Hostname: string; Platform: { Architecture: string; OS: string } };
  Task: { ID: string; Name: string; Slot: string };
}

export function templateContext(task: AgentTask, node: NodeRef, containerName: string): TemplateContext {
  return {
    Service: { ID: task.ServiceID, Name: task.ServiceAnnotations?.Name || task.ServiceID, Labels: { ...(task.ServiceAnnotations?.Labels ?? {}) } },
    Node: { ID: task.NodeID || node.ID, Hostname: node.Hostname ?? '', Platform: { Architecture: node.Platform?.Architecture ?? '', OS: node.Platform?.OS ?? '' } },
    Task: { ID: task.ID, Name: containerName, Slot: task.Slot ? String(task.Slot) : task.NodeID || node.ID },
  };
}

function lookup(ctx: TemplateContext, path: string, field: string): unknown {
  let v: unknown = ctx;
  for (const key of path.split('.').slice(1)) {
    if (typeof v !== 'object' || v === null || !Object.prototype.hasOwnProperty.call(v, key)) throw invalid(`${field}: template refers to an unknown field ${path}`);
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

function evaluate(expr: string, ctx: TemplateContext, field: string): string {
  const idx = /^index\s+(\.[A-Za-z.]+)\s+"((?:[^"\\]|\\.)*)"$/.exec(expr);
  if (idx) {
    const map = lookup(ctx, idx[1], field);
    if (typeof map !== 'object' || map === null) throw invalid(`${field}: template index needs a map, ${idx[1]} is not one`);
    return (map as Record<string, string>)[JSON.parse(`"${idx[2]}"`) as string] ?? '';
  }
  if (!/^(\.[A-Za-z]+)+$/.test(expr)) throw invalid(`${field}: unsupported template expression {{${expr}}}`);
  const v = lookup(ctx, expr, field);
  if (typeof v !== 'string') throw invalid(`${field}: template field ${expr} is not a plain value`);
  return v;
}

/** Expand every {{ ... }} in `s`; `field` names it in errors. */
export function expandTemplate(s: string, ctx: TemplateContext, field: string): string {
  if (!s.includes('{{')) return s;
  const out = s.replace(/\{\{-?\s*(.*?)\s*-?\}\}/g, (_m, expr: string) => evaluate(expr, ctx, field));
  if (out.includes('{{')) throw invalid(`${field}: unterminated template in "${s}"`);
  return out;
}

/** The ContainerSpec with Hostname, Env and mount paths expanded, as swarm does on the node. */
export function expandContainerSpec(spec: ContainerSpec, ctx: TemplateContext): ContainerSpec {
  const out: ContainerSpec = { ...spec };
  if (spec.Hostname) out.Hostname = expandTemplate(spec.Hostname, ctx, 'ContainerSpec.Hostname');
  if (spec.Env) out.Env = spec.Env.map((e, i) => expandTemplate(e, ctx, `ContainerSpec.Env[${i}]`));
  if (spec.Mounts) {
    out.Mounts = spec.Mounts.map((m, i) => ({
      ...m,
      ...(m.Source ? { Source: expandTemplate(m.Source, ctx, `ContainerSpec.Mounts[${i}].Source`) } : {}),
      ...(m.Target ? { Target: expandTemplate(m.Target, ctx, `ContainerSpec.Mounts[${i}].Target`) } : {}),
    }));
  }
  return out;
}
