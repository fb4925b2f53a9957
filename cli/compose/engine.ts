// The Engine API calls compose makes, scoped to one project by its labels, and the progress
// lines docker compose prints for them (" Container p-web-1  Started" on stderr).
import type { Cli } from '../context';
import { ApiError } from '../client';
import type { ContainerSummary } from '../format/containers';
import { pullImage } from '../commands/run';
import { seg } from '../commands/common';
import type { CreateRequest } from '../../worker/engine/containers/types';
import * as L from './labels';
import type { ObservedContainer } from './plan';

export interface ProjectContainer extends ObservedContainer {
  summary: ContainerSummary;
}

export interface ContainerState {
  Status?: string;
  Running?: boolean;
  ExitCode?: number;
  StartedAt?: string;
  Health?: { Status?: string };
}

export interface ContainerInspect {
  Id: string;
  Name?: string;
  Created?: string;
  Config?: { Tty?: boolean; Labels?: Record<string, string> };
  State?: ContainerState;
}

export const isNotFound = (e: unknown): boolean => e instanceof ApiError && e.status === 404;

export class ProjectApi {
  constructor(
    readonly cli: Cli,
    readonly project: string,
  ) {}

  /** One progress line, as docker compose prints them without a terminal UI. */
  progress(kind: 'Container' | 'Network' | 'Volume' | 'Image', name: string, status: string): void {
    this.cli.err(` ${kind} ${name}  ${status}\n`);
  }

  /** The project's containers (all states unless `runningOnly`), one-off ones excluded, by name. */
  async containers(opts: { runningOnly?: boolean; services?: string[] } = {}): Promise<ProjectContainer[]> {
    const list = await this.cli.client.get<ContainerSummary[]>('/containers/json', { query: { all: opts.runningOnly ? undefined : 1, filters: L.projectFilter(this.project) } });
    const out: ProjectContainer[] = [];
    for (const c of list) {
      const labels = c.Labels ?? {};
      if (labels[L.ONEOFF_LABEL] === 'True') continue;
      const service = labels[L.SERVICE_LABEL] ?? '';
      if (opts.services?.length && !opts.services.includes(service)) continue;
      out.push({
        id: c.Id,
        name: (c.Names?.[0] ?? c.Id).replace(/^\//, ''),
        service,
        number: Number(labels[L.NUMBER_LABEL] ?? 0),
        hash: labels[L.HASH_LABEL] ?? '',
        imageId: labels[L.IMAGE_LABEL],
        running: c.State === 'running',
        summary: c,
      });
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  inspect(id: string): Promise<ContainerInspect> {
    return this.cli.client.get<ContainerInspect>(`/containers/${seg(id)}/json`);
  }

  /** The image's ID, pulling it first when the daemon does not have it. */
  async imageId(image: string, service: string): Promise<string> {
    const get = () => this.cli.client.get<{ Id: string }>(`/images/${seg(image)}/json`);
    try {
      return (await get()).Id;
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    this.cli.err(` ${service} Pulling\n`);
    await pullImage(this.cli, image, { write: () => undefined });
    this.cli.err(` ${service} Pulled\n`);
    return (await get()).Id;
  }

  async create(name: string, body: CreateRequest): Promise<string> {
    this.progress('Container', name, 'Creating');
    const r = await this.cli.client.post<{ Id: string; Warnings?: string[] | null }>('/containers/create', { query: { name }, body });
    for (const w of r.Warnings ?? []) this.cli.err(`WARNING: ${w}\n`);
    this.progress('Container', name, 'Created');
    return r.Id;
  }

  async start(c: { id: string; name: string }): Promise<void> {
    this.progress('Container', c.name, 'Starting');
    await this.cli.client.post(`/containers/${c.id}/start`);
    this.progress('Container', c.name, 'Started');
  }

  async stop(c: { id: string; name: string }, timeout?: number): Promise<void> {
    this.progress('Container', c.name, 'Stopping');
    await this.cli.client.post(`/containers/${c.id}/stop`, { query: { t: timeout } });
    this.progress('Container', c.name, 'Stopped');
  }

  async kill(c: { id: string; name: string }): Promise<void> {
    await this.cli.client.post(`/containers/${c.id}/kill`).catch(() => undefined);
  }

  async remove(c: { id: string; name: string }, volumes = false): Promise<void> {
    this.progress('Container', c.name, 'Removing');
    await this.cli.client.delete(`/containers/${c.id}`, { query: { force: 1, v: volumes ? 1 : undefined } });
    this.progress('Container', c.name, 'Removed');
  }

  async exists(kind: 'networks' | 'volumes', name: string): Promise<Record<string, unknown> | undefined> {
    try {
      return await this.cli.client.get<Record<string, unknown>>(`/${kind}/${seg(name)}`);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }
}
