// docker stack ls: a stack is the set of services labelled com.docker.stack.namespace=NAME,
// whoever deployed it (shoal or the stock docker CLI), listed with its service count.
import { NAMESPACE_LABEL } from '../../shared/compose';
import type { Service } from '../../shared/swarm/types';
import { contextRow, withMethods, type Row } from '../format/formatter';
import { naturalCompare } from '../format/swarm';

export const STACK_TABLE = 'table {{.Name}}\t{{.Services}}';
export const STACK_HEADERS: Row = withMethods({ Name: 'NAME', Services: 'SERVICES' }, {});

export interface StackSummary {
  name: string;
  services: number;
}

/** Stacks in natural name order, from services listed with the namespace label filter. */
export function summarizeStacks(services: readonly Service[]): StackSummary[] {
  const counts = new Map<string, number>();
  for (const s of services) {
    const ns = s.Spec.Labels?.[NAMESPACE_LABEL];
    if (ns === undefined) throw new Error(`cannot get label ${NAMESPACE_LABEL} for service ${s.ID}`);
    counts.set(ns, (counts.get(ns) ?? 0) + 1);
  }
  return [...counts].map(([name, services]) => ({ name, services })).sort((a, b) => naturalCompare(a.name, b.name));
}

/** Services is a string in docker's context ({{json .}} shows "Services":"3"). */
export function stackRow(s: StackSummary): Row {
  return contextRow({ Name: s.name, Services: String(s.services) });
}

/** The label filter selecting one stack's objects (or every stack's). */
export function stackFilter(namespace?: string): string {
  return namespace === undefined ? NAMESPACE_LABEL : `${NAMESPACE_LABEL}=${namespace}`;
}
