// shoal stack rm: docker's order and lines (services, secrets, configs, networks; "Removing
// service x"), except that a network whose tasks are still stopping is retried until they are
// gone (within a bound) instead of being left behind with "Failed to remove network".
import { setTimeout as delay } from 'node:timers/promises';
import type { Service, Task } from '../../shared/swarm/types';
import { ApiError } from '../client';
import type { Cli } from '../context';
import { seg } from '../commands/common';
import { stackFilter } from './list';

export interface RemoveOptions {
  /** Return without waiting for the stack's tasks to stop (docker's default). */
  detach: boolean;
  /** How long a network whose tasks are stopping is retried. */
  networkTimeoutMs: number;
  pollMs?: number;
}

interface Named {
  ID: string;
  Spec?: { Name?: string };
}

interface NetworkJson {
  Id: string;
  Name: string;
}

const TERMINAL = ['complete', 'shutdown', 'failed', 'rejected', 'orphaned', 'remove'];

/** The daemon refuses to remove a network while a stopping task is still attached to it. */
export function isNetworkBusy(e: unknown): boolean {
  return e instanceof ApiError && (e.status === 403 || e.status === 409) && /active endpoints|in use/.test(e.message);
}

/** Remove each stack; returns the error lines (empty when everything went). */
export async function removeStacks(cli: Cli, namespaces: string[], o: RemoveOptions): Promise<string[]> {
  const c = cli.client;
  const errors: string[] = [];
  for (const ns of namespaces) {
    const query = { filters: JSON.stringify({ label: [stackFilter(ns)] }) };
    const services = await c.get<Service[]>('/services', { query });
    const networks = await c.get<NetworkJson[]>('/networks', { query });
    const secrets = await c.get<Named[]>('/secrets', { query });
    const configs = await c.get<Named[]>('/configs', { query });
    if (services.length + networks.length + secrets.length + configs.length === 0) {
      cli.err(`Nothing found in stack: ${ns}\n`);
      continue;
    }
    let failed = false;
    const remove = async (noun: string, name: string, id: string, path: string, retry?: (e: unknown) => boolean) => {
      cli.line(`Removing ${noun} ${name}`);
      const end = Date.now() + o.networkTimeoutMs;
      for (;;) {
        try {
          await c.delete(path);
          return;
        } catch (e) {
          if (e instanceof ApiError && e.status === 404) return;
          if (retry?.(e) && Date.now() < end) {
            await delay(o.pollMs ?? 250);
            continue;
          }
          failed = true;
          cli.err(`Failed to remove ${noun} ${id}: ${e instanceof ApiError ? `Error response from daemon: ${e.message}` : (e as Error).message}\n`);
          return;
        }
      }
    };
    for (const s of [...services].sort((a, b) => ((a.Spec.Name ?? '') < (b.Spec.Name ?? '') ? -1 : 1))) await remove('service', s.Spec.Name ?? '', s.ID, `/services/${seg(s.ID)}`);
    for (const s of secrets) await remove('secret', s.Spec?.Name ?? '', s.ID, `/secrets/${seg(s.ID)}`);
    for (const s of configs) await remove('config', s.Spec?.Name ?? '', s.ID, `/configs/${seg(s.ID)}`);
    for (const n of networks) await remove('network', n.Name, n.Id, `/networks/${seg(n.Id)}`, isNetworkBusy);
    if (failed) {
      errors.push(`failed to remove some resources from stack: ${ns}`);
      continue;
    }
    if (!o.detach) {
      const end = Date.now() + o.networkTimeoutMs;
      for (;;) {
        const tasks = await c.get<Task[]>('/tasks', { query });
        if (tasks.every((t) => TERMINAL.includes(t.Status.State))) break;
        if (Date.now() >= end) {
          errors.push(`failed to wait on tasks of stack: ${ns}: ${tasks.filter((t) => !TERMINAL.includes(t.Status.State)).length} tasks still running`);
          break;
        }
        await delay(o.pollMs ?? 250);
      }
    }
  }
  return errors;
}
