// docker service ps / node ps rows: task names "service.slot" (or "service.nodeID" for global
// services), sorted by name then newest first, older tasks of a slot indented with " \_ ".
import { contextRow, withMethods, type Row } from './formatter';
import { ellipsis, humanDuration, truncateId } from './human';
import { displayImage, naturalCompare, prettyPrint } from './swarm';
import type { Task } from './swarm-types';

export const TASK_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.Image}}\t{{.Node}}\t{{.DesiredState}}\t{{.CurrentState}}\t{{.Error}}\t{{.Ports}}';
export const TASK_HEADERS: Row = withMethods(
  { ID: 'ID', Name: 'NAME', Image: 'IMAGE', Node: 'NODE', DesiredState: 'DESIRED STATE', CurrentState: 'CURRENT STATE', Error: 'ERROR', Ports: 'PORTS' },
  {},
);

export interface TaskRowOptions {
  trunc: boolean;
  /** Table output indents a slot's older tasks. */
  table: boolean;
  now?: number;
  /** Service ID -> name, node ID -> name (identity with --no-resolve). */
  serviceName(id: string): string;
  nodeName(id: string): string;
}

/** The task's display name: service name and slot, or service name and node ID for global services. */
export function taskName(t: Task, serviceName: string): string {
  return t.Slot ? `${serviceName}.${t.Slot}` : `${serviceName}.${t.NodeID ?? ''}`;
}

/** "Running 5 seconds ago". */
export function currentState(t: Task, now = Date.now()): string {
  const ts = Date.parse(t.Status.Timestamp ?? '');
  const ago = Number.isNaN(ts) ? humanDuration(Number.MAX_SAFE_INTEGER) : humanDuration(now - ts);
  return `${prettyPrint(t.Status.State)} ${ago.toLowerCase()} ago`;
}

/** Rows in docker's order; the caller has resolved the names it needs. */
export function taskRows(tasks: Task[], o: TaskRowOptions): Row[] {
  const named = tasks.map((t) => ({ t, name: taskName(t, o.serviceName(t.ServiceID)) }));
  const created = (t: Task) => Date.parse(t.CreatedAt ?? '') || 0;
  named.sort((a, b) => (a.name !== b.name ? naturalCompare(a.name, b.name) : created(b.t) - created(a.t)));
  let prev = '';
  return named.map(({ t, name }) => {
    const shown = o.table && name === prev ? ` \\_ ${name}` : name;
    prev = name;
    const err = t.Status.Err ?? '';
    const e = o.trunc ? ellipsis(err, 30) : err;
    const ports = (t.Status.PortStatus?.Ports ?? []).map((p) => `*:${p.PublishedPort ?? 0}->${p.TargetPort ?? 0}/${p.Protocol ?? ''}`).join(',');
    return contextRow({
      CurrentState: currentState(t, o.now),
      DesiredState: prettyPrint(t.DesiredState),
      Error: e ? `"${e}"` : '',
      ID: o.trunc ? truncateId(t.ID) : t.ID,
      Image: o.trunc ? displayImage(t.Spec?.ContainerSpec?.Image) : (t.Spec?.ContainerSpec?.Image ?? ''),
      Name: shown,
      Node: o.nodeName(t.NodeID ?? ''),
      Ports: ports,
    });
  });
}
