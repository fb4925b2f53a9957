// version, info, events, inspect (any object type) and the system group.
import os from 'node:os';
import type { Cli } from '../context';
import { ApiError } from '../client';
import { ExitError, cannotConnect } from '../errors';
import { isShoalError } from '../../shared/errors';
import { API_VERSION } from '../../shared/api/version';
import { list, registerGroup, type CommandGroup, type ShoalCommand } from '../program';
import { parseTemplate, TemplateError, type Template } from '../format/template';
import { renderEvent, type EventMessage } from '../format/progress';
import { inspectTemplate, renderInspect } from '../format/inspect';
import { humanSize } from '../format/human';
import { tabulate } from '../format/tabwriter';
import { filtersJson } from '../opts/filters';
import { apiTimestamp } from '../opts/time';
import { seg } from './common';

export const CLI_VERSION: string = require('../../../package.json').version;

const goArch = () => ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386' })[os.arch() as 'x64'] ?? os.arch();

function template(format: string): Template {
  try {
    return parseTemplate(format.replace(/\\t/g, '\t').replace(/\\n/g, '\n'));
  } catch (e) {
    throw new ExitError(64, `template parsing error: ${(e as Error).message}`);
  }
}

function execute(t: Template, data: unknown): string {
  try {
    return t.execute(data);
  } catch (e) {
    if (e instanceof TemplateError) throw new ExitError(1, e.message);
    throw e;
  }
}

const isConnectError = (e: unknown) => !(e instanceof ApiError) && (isShoalError(e, 'UNAVAILABLE') || isShoalError(e, 'CANCELLED'));

function clientVersion(): Record<string, unknown> {
  return { Platform: { Name: 'shoal' }, Version: CLI_VERSION, ApiVersion: API_VERSION, DefaultAPIVersion: API_VERSION, GitCommit: '', GoVersion: process.version, Os: 'linux', Arch: goArch(), BuildTime: '', Context: 'default' };
}

function defineVersion(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Show the shoal version information')
    .option('-f, --format <format>', "Format output using a custom template: 'json' or 'TEMPLATE'")
    .action(async () => {
      const o = cmd.opts();
      const client = clientVersion();
      let server: Record<string, unknown> | undefined;
      let failure: unknown;
      try {
        server = await cli.client.get<Record<string, unknown>>('/version');
      } catch (e) {
        failure = e;
      }
      if (o.format) {
        const t = o.format === 'json' ? template('{{json .}}') : template(o.format);
        cli.line(execute(t, { Client: client, Server: server ?? null }));
      } else {
        const pad = (k: string, width: number) => `${k}:`.padEnd(width);
        cli.out(`Client:\n ${pad('Version', 19)}${CLI_VERSION}\n ${pad('API version', 19)}${API_VERSION}\n ${pad('Node version', 19)}${process.version}\n ${pad('OS/Arch', 19)}linux/${goArch()}\n`);
        if (server) {
          const s = server as { Platform?: { Name?: string }; Version?: string; ApiVersion?: string; MinAPIVersion?: string; GoVersion?: string; GitCommit?: string; Os?: string; Arch?: string; KernelVersion?: string };
          cli.out(`\nServer: ${s.Platform?.Name ?? ''}\n Engine:\n  ${pad('Version', 18)}${s.Version ?? ''}\n  ${pad('API version', 18)}${s.ApiVersion ?? ''} (minimum version ${s.MinAPIVersion ?? ''})\n  ${pad('Node version', 18)}${s.GoVersion ?? ''}\n  ${pad('OS/Arch', 18)}${s.Os ?? ''}/${s.Arch ?? ''}\n  ${pad('Kernel Version', 18)}${s.KernelVersion ?? ''}\n`);
        }
      }
      if (failure) throw failure;
    });
}

type Info = Record<string, unknown> & {
  Containers?: number;
  ContainersRunning?: number;
  ContainersPaused?: number;
  ContainersStopped?: number;
  Images?: number;
  ServerVersion?: string;
  Driver?: string;
  LoggingDriver?: string;
  CgroupDriver?: string;
  CgroupVersion?: string;
  Plugins?: { Volume?: string[]; Network?: string[]; Log?: string[] };
  Swarm?: { LocalNodeState?: string; NodeID?: string; ControlAvailable?: boolean };
  Runtimes?: Record<string, unknown>;
  DefaultRuntime?: string;
  KernelVersion?: string;
  OperatingSystem?: string;
  OSType?: string;
  Architecture?: string;
  NCPU?: number;
  MemTotal?: number;
  DockerRootDir?: string;
  Name?: string;
  ID?: string;
  Labels?: string[];
  Warnings?: string[] | null;
};

function defineInfo(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Display system-wide information')
    .option('-f, --format <format>', "Format output using a custom template: 'json' or 'TEMPLATE'")
    .action(async () => {
      const o = cmd.opts();
      const clientInfo = { Debug: false, Context: 'default', Plugins: [], Warnings: null };
      if (o.format) {
        const t = o.format === 'json' ? template('{{json .}}') : template(o.format);
        const info = await cli.client.get<Info>('/info');
        cli.line(execute(t, { ...info, ClientInfo: clientInfo }));
        return;
      }
      cli.out(`Client:\n Version:    ${CLI_VERSION}\n Context:    default\n Debug Mode: false\n\n`);
      let info: Info;
      try {
        info = await cli.client.get<Info>('/info');
      } catch (e) {
        if (isConnectError(e)) throw new ExitError(1, `Server:\nERROR: ${cannotConnect(cli.host)}\nerrors pretty printing info`);
        throw e;
      }
      const lines: string[] = ['Server:'];
      const add = (indent: number, k: string, v: unknown) => lines.push(`${' '.repeat(indent)}${k}: ${v ?? ''}`);
      add(1, 'Containers', info.Containers ?? 0);
      add(2, 'Running', info.ContainersRunning ?? 0);
      add(2, 'Paused', info.ContainersPaused ?? 0);
      add(2, 'Stopped', info.ContainersStopped ?? 0);
      add(1, 'Images', info.Images ?? 0);
      add(1, 'Server Version', info.ServerVersion);
      add(1, 'Storage Driver', info.Driver);
      add(1, 'Logging Driver', info.LoggingDriver);
      add(1, 'Cgroup Driver', info.CgroupDriver);
      add(1, 'Cgroup Version', info.CgroupVersion);
      lines.push(' Plugins:');
      add(2, 'Volume', (info.Plugins?.Volume ?? []).join(' '));
      add(2, 'Network', (info.Plugins?.Network ?? []).join(' '));
      add(2, 'Log', (info.Plugins?.Log ?? []).join(' '));
      add(1, 'Swarm', info.Swarm?.LocalNodeState ?? 'inactive');
      add(1, 'Runtimes', Object.keys(info.Runtimes ?? {}).sort().join(' '));
      add(1, 'Default Runtime', info.DefaultRuntime);
      add(1, 'Kernel Version', info.KernelVersion);
      add(1, 'Operating System', info.OperatingSystem);
      add(1, 'OSType', info.OSType);
      add(1, 'Architecture', info.Architecture);
      add(1, 'CPUs', info.NCPU);
      add(1, 'Total Memory', humanBinary(info.MemTotal ?? 0));
      add(1, 'Name', info.Name);
      add(1, 'ID', info.ID);
      add(1, 'Shoal Root Dir', info.DockerRootDir);
      if (info.Labels?.length) {
        lines.push(' Labels:');
        for (const l of info.Labels) lines.push(`  ${l}`);
      }
      cli.out(`${lines.join('\n')}\n`);
      for (const w of info.Warnings ?? []) cli.err(`${w}\n`);
    });
}

/** docker info's memory: binary units with two decimals ("23.47GiB"). */
function humanBinary(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number(v.toFixed(2))}${units[i]}`;
}

function defineEvents(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Get real time events from the server')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', list)
    .option('--format <format>', "Format output using a custom template: 'json' or 'TEMPLATE'")
    .option('--since <time>', 'Show all events created since timestamp')
    .option('--until <time>', 'Stream events until this timestamp')
    .action(async () => {
      const o = cmd.opts();
      const t = o.format ? template(o.format === 'json' ? '{{json .}}' : o.format) : undefined;
      const now = Date.now();
      const res = await cli.client.checked('GET', '/events', {
        query: { since: o.since === undefined ? undefined : apiTimestamp(o.since, now), until: o.until === undefined ? undefined : apiTimestamp(o.until, now), filters: filtersJson(o.filter) },
      });
      let buf = '';
      const handle = (line: string) => {
        if (!line.trim()) return;
        const ev = JSON.parse(line) as EventMessage;
        cli.out(t ? `${execute(t, ev)}\n` : renderEvent(ev));
      };
      for await (const chunk of res.stream as AsyncIterable<Buffer>) {
        buf += chunk.toString();
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          handle(buf.slice(0, i));
          buf = buf.slice(i + 1);
        }
      }
      handle(buf);
    });
}

export interface InspectType {
  type: string;
  get(cli: Cli, name: string, size: boolean): Promise<unknown>;
}

/** The object types `shoal inspect` tries, in docker's order; later groups (swarm objects) add theirs. */
export const INSPECT_TYPES: InspectType[] = [
  { type: 'container', get: (cli, n, size) => cli.client.get(`/containers/${seg(n)}/json`, { query: { size: size ? 1 : undefined } }) },
  { type: 'image', get: (cli, n) => cli.client.get(`/images/${seg(n)}/json`) },
  { type: 'network', get: (cli, n) => cli.client.get(`/networks/${seg(n)}`) },
  { type: 'volume', get: (cli, n) => cli.client.get(`/volumes/${seg(n)}`) },
];

function defineInspectAny(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Return low-level information on shoal objects')
    .argument('<name...>')
    .option('-f, --format <format>', "Format output using a custom template: 'json' or 'TEMPLATE'")
    .option('-s, --size', 'Display total file sizes if the type is container')
    .option('--type <type>', 'Only inspect objects of the given type')
    .action(async (names: string[]) => {
      const o = cmd.opts();
      const types = o.type ? INSPECT_TYPES.filter((t) => t.type === o.type) : INSPECT_TYPES;
      if (o.type && !types.length) throw new ExitError(1, `"${o.type}" is not a valid value for --type`);
      const tmpl = inspectTemplate(o.format);
      const found: unknown[] = [];
      const errors: string[] = [];
      for (const n of names) {
        let obj: unknown;
        let lastNotFound: ApiError | undefined;
        for (const t of types) {
          try {
            obj = await t.get(cli, n, !!o.size);
            break;
          } catch (e) {
            if (e instanceof ApiError && (e.status === 404 || (e.status === 400 && t.type !== o.type))) {
              lastNotFound = e;
              continue;
            }
            throw e;
          }
        }
        if (obj !== undefined) found.push(obj);
        else errors.push(o.type && lastNotFound ? `Error response from daemon: ${lastNotFound.message}` : `Error: No such object: ${n}`);
      }
      if (found.length || !tmpl) cli.out(renderInspect(found, tmpl));
      if (errors.length) throw new ExitError(1, errors.join('\n'));
    });
}

function defineDf(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Show shoal disk usage')
    .action(async () => {
      const r = await cli.client.get<{ LayersSize?: number; Images?: Array<{ Size?: number; Containers?: number }> | null; Containers?: Array<{ SizeRw?: number; State?: string }> | null; Volumes?: Array<{ UsageData?: { Size?: number; RefCount?: number } }> | null }>('/system/df');
      const images = r.Images ?? [];
      const containers = r.Containers ?? [];
      const volumes = r.Volumes ?? [];
      const rows = [
        ['TYPE', 'TOTAL', 'ACTIVE', 'SIZE'],
        ['Images', String(images.length), String(images.filter((i) => (i.Containers ?? 0) > 0).length), humanSize(r.LayersSize ?? 0)],
        ['Containers', String(containers.length), String(containers.filter((c) => c.State === 'running').length), humanSize(containers.reduce((a, c) => a + (c.SizeRw ?? 0), 0))],
        ['Local Volumes', String(volumes.length), String(volumes.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length), humanSize(volumes.reduce((a, v) => a + Math.max(0, v.UsageData?.Size ?? 0), 0))],
      ];
      cli.out(tabulate(`${rows.map((r) => r.join('\t')).join('\n')}\n`));
    });
}

export const systemGroup: CommandGroup = {
  register(program, cli) {
    defineVersion(program.command('version'), cli);
    defineInspectAny(program.command('inspect'), cli);
    registerGroup(program, cli, 'system', 'Manage shoal', [
      { name: 'df', define: defineDf },
      { name: 'events', top: 'events', define: defineEvents },
      { name: 'info', top: 'info', define: defineInfo },
    ]);
  },
};
