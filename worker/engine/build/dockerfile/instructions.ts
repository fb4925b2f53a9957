// Typed Dockerfile instructions, parsed from lexed lines with Docker's argument rules
// (JSON "exec" form vs shell form, KEY=value lists, builder flags) and Docker's messages.

import { parseDurationMs } from '../../../../shared/units';
import { DockerfileError } from './errors';
import { splitCommand, type RawNode } from './lexer';
import { splitWords } from './shell';

interface Base {
  line: number;
  endLine: number;
  /** The instruction as written (continuations joined). */
  original: string;
}

/** RUN/CMD/ENTRYPOINT arguments: JSON ("exec") form or one shell string. */
export type CommandLine = { json: true; args: string[] } | { json: false; shell: string };

export interface KeyValue {
  key: string;
  value: string;
}

export interface FromInstr extends Base { kind: 'FROM'; image: string; stageName?: string; platform?: string }
export interface RunInstr extends Base { kind: 'RUN'; cmd: CommandLine; network?: string }
export interface CmdInstr extends Base { kind: 'CMD' | 'ENTRYPOINT'; cmd: CommandLine }
export interface ShellInstr extends Base { kind: 'SHELL'; shell: string[] }
export interface EnvInstr extends Base { kind: 'ENV' | 'LABEL'; pairs: KeyValue[] }
export interface ArgInstr extends Base { kind: 'ARG'; args: Array<{ key: string; value?: string }> }
export interface CopyInstr extends Base {
  kind: 'COPY' | 'ADD';
  sources: string[];
  dest: string;
  from?: string;
  chown?: string;
  chmod?: string;
}
export interface WorkdirInstr extends Base { kind: 'WORKDIR'; path: string }
export interface UserInstr extends Base { kind: 'USER'; user: string }
export interface ExposeInstr extends Base { kind: 'EXPOSE'; ports: string[] }
export interface VolumeInstr extends Base { kind: 'VOLUME'; paths: string[] }
export interface StopSignalInstr extends Base { kind: 'STOPSIGNAL'; signal: string }
export interface HealthcheckInstr extends Base {
  kind: 'HEALTHCHECK';
  /** ["NONE"], ["CMD", ...args] or ["CMD-SHELL", command]. */
  test: string[];
  interval?: number; // ns; 0/undefined: inherit
  timeout?: number;
  startPeriod?: number;
  startInterval?: number;
  retries?: number;
}
export interface OnbuildInstr extends Base { kind: 'ONBUILD'; expression: string }
export interface MaintainerInstr extends Base { kind: 'MAINTAINER'; name: string }

export type Instruction =
  | FromInstr
  | RunInstr
  | CmdInstr
  | ShellInstr
  | EnvInstr
  | ArgInstr
  | CopyInstr
  | WorkdirInstr
  | UserInstr
  | ExposeInstr
  | VolumeInstr
  | StopSignalInstr
  | HealthcheckInstr
  | OnbuildInstr
  | MaintainerInstr;

const WHITESPACE = /[\t\v\f\r ]+/;

/** Builder flags for one instruction: declared names, Docker's error messages. */
class Flags {
  private readonly values = new Map<string, string | true>();

  constructor(
    private readonly node: RawNode,
    strings: string[],
    bools: string[] = [],
  ) {
    for (const raw of node.flags) {
      if (!raw.startsWith('--')) throw this.error(`Arg '${raw}' doesn't start with '--'`);
      const body = raw.slice(2);
      const eq = body.indexOf('=');
      const name = (eq < 0 ? body : body.slice(0, eq)).toLowerCase();
      const value = eq < 0 ? undefined : body.slice(eq + 1);
      const isString = strings.includes(name);
      const isBool = bools.includes(name);
      if (!isString && !isBool) throw this.error(`Unknown flag: ${name}`);
      if (this.values.has(name)) throw this.error(`Duplicate flag specified: ${name}`);
      if (isString) {
        if (value === undefined) throw this.error(`Missing a value on flag: ${name}`);
        this.values.set(name, value);
      } else {
        const v = (value ?? 'true').toLowerCase();
        if (v !== 'true' && v !== 'false') throw this.error(`expecting boolean value for flag ${name}, not: ${value}`);
        if (v === 'true') this.values.set(name, true);
      }
    }
  }

  str(name: string): string | undefined {
    const v = this.values.get(name);
    return typeof v === 'string' ? v : undefined;
  }

  bool(name: string): boolean {
    return this.values.get(name) === true;
  }

  error(msg: string): DockerfileError {
    return new DockerfileError(this.node.startLine, msg);
  }
}

/** JSON string-array form, if the arguments are one. Non-string arrays are an error, as in Docker. */
function parseJsonArray(node: RawNode, rest: string): string[] | undefined {
  const t = rest.trim();
  if (!t.startsWith('[')) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(t);
  } catch {
    return undefined;
  }
  if (!Array.isArray(v)) return undefined;
  if (!v.every((x) => typeof x === 'string')) throw new DockerfileError(node.startLine, 'when using JSON array syntax, arrays must be comprised of strings only');
  return v as string[];
}

function commandLine(node: RawNode, rest: string): CommandLine {
  const json = parseJsonArray(node, rest);
  return json ? { json: true, args: json } : { json: false, shell: rest };
}

function listArgs(node: RawNode, rest: string): string[] {
  return parseJsonArray(node, rest) ?? (rest === '' ? [] : rest.split(WHITESPACE).filter((w) => w !== ''));
}

function nameValues(node: RawNode, key: string, escape: string): KeyValue[] {
  const words = splitWords(node.rest, escape);
  if (words.length === 0) throw new DockerfileError(node.startLine, `${key} requires at least one argument`);
  if (!words[0].includes('=')) {
    // Legacy form: "ENV name value with spaces".
    const m = /^(\S+)[\t\v\f\r ]+([\s\S]*)$/.exec(node.rest);
    if (!m) throw new DockerfileError(node.startLine, `${key} must have two arguments`);
    return [{ key: m[1], value: m[2] }];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq < 0) throw new DockerfileError(node.startLine, `Syntax error - can't find = in ${JSON.stringify(w)}. Must be of the form: name=value`);
    if (eq === 0) throw new DockerfileError(node.startLine, `${key} names can not be blank`);
    return { key: w.slice(0, eq), value: w.slice(eq + 1) };
  });
}

/** A Go-style duration ("30s", "1m30s") in nanoseconds; Docker's range checks for HEALTHCHECK. */
function healthDuration(flags: Flags, name: string): number | undefined {
  const s = flags.str(name);
  if (s === undefined || s === '') return undefined;
  let ns: number;
  try {
    ns = Math.round(parseDurationMs(s) * 1e6);
  } catch {
    throw flags.error(`time: invalid duration ${JSON.stringify(s)}`);
  }
  if (ns === 0) return 0;
  if (ns < 1e6) throw flags.error(`Interval ${JSON.stringify(name)} cannot be less than 1ms`);
  return ns;
}

const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

function exactlyOne(node: RawNode, name: string): string {
  if (node.rest === '') throw new DockerfileError(node.startLine, `${name} requires exactly one argument`);
  return node.rest;
}

/** Parse one lexed line into a typed instruction. */
export function parseInstruction(node: RawNode, escape = '\\'): Instruction {
  const base: Base = { line: node.startLine, endLine: node.endLine, original: node.original };
  const name = node.cmd.toUpperCase();
  const noFlags = () => new Flags(node, []);
  switch (node.cmd) {
    case 'from': {
      const flags = new Flags(node, ['platform']);
      const args = listArgs(node, node.rest);
      if (args.length !== 1 && args.length !== 3) throw flags.error('FROM requires either one or three arguments');
      let stageName: string | undefined;
      if (args.length === 3) {
        if (args[1].toLowerCase() !== 'as') throw flags.error('When using FROM with 3 arguments, the second argument must be "AS"');
        stageName = args[2].toLowerCase();
        if (!STAGE_NAME.test(stageName)) throw flags.error(`invalid name for build stage: ${JSON.stringify(args[2])}, name can't start with a number or contain symbols`);
      }
      return { ...base, kind: 'FROM', image: args[0], stageName, platform: flags.str('platform') };
    }
    case 'run': {
      const flags = new Flags(node, ['network', 'mount', 'security']);
      for (const f of ['mount', 'security']) if (flags.str(f) !== undefined) throw flags.error(`the --${f} option requires BuildKit`);
      const network = flags.str('network');
      if (network !== undefined && !['default', 'none', 'host'].includes(network)) throw flags.error(`unsupported network mode: ${network}`);
      if (node.rest === '') throw flags.error('RUN requires at least one argument');
      return { ...base, kind: 'RUN', cmd: commandLine(node, node.rest), network };
    }
    case 'cmd':
    case 'entrypoint':
      noFlags();
      return { ...base, kind: name as 'CMD' | 'ENTRYPOINT', cmd: commandLine(node, node.rest) };
    case 'shell': {
      noFlags();
      const json = parseJsonArray(node, node.rest);
      if (!json) throw new DockerfileError(node.startLine, 'SHELL requires the arguments to be in JSON form');
      if (json.length === 0) throw new DockerfileError(node.startLine, 'SHELL requires at least one argument');
      return { ...base, kind: 'SHELL', shell: json };
    }
    case 'env':
    case 'label':
      noFlags();
      return { ...base, kind: name as 'ENV' | 'LABEL', pairs: nameValues(node, name, escape) };
    case 'arg': {
      noFlags();
      const words = splitWords(node.rest, escape);
      if (words.length === 0) throw new DockerfileError(node.startLine, 'ARG requires at least one argument');
      const args = words.map((w) => {
        const eq = w.indexOf('=');
        if (eq === 0) throw new DockerfileError(node.startLine, 'ARG names can not be blank');
        return eq < 0 ? { key: w } : { key: w.slice(0, eq), value: w.slice(eq + 1) };
      });
      return { ...base, kind: 'ARG', args };
    }
    case 'copy':
    case 'add': {
      const flags = node.cmd === 'copy' ? new Flags(node, ['from', 'chown', 'chmod', 'parents', 'exclude'], ['link']) : new Flags(node, ['chown', 'chmod', 'checksum', 'keep-git-dir'], ['link']);
      for (const f of ['parents', 'exclude', 'checksum', 'keep-git-dir']) if (flags.str(f) !== undefined) throw flags.error(`the --${f} option requires BuildKit`);
      const args = listArgs(node, node.rest);
      if (args.length < 2) throw flags.error(`${name} requires at least two arguments, but only one was provided. Destination could not be determined.`);
      const from = flags.str('from');
      if (from === '') throw flags.error('--from requires a stage name, index or image');
      return { ...base, kind: name as 'COPY' | 'ADD', sources: args.slice(0, -1), dest: args[args.length - 1], from, chown: flags.str('chown'), chmod: flags.str('chmod') };
    }
    case 'workdir':
      noFlags();
      return { ...base, kind: 'WORKDIR', path: exactlyOne(node, name) };
    case 'user':
      noFlags();
      return { ...base, kind: 'USER', user: exactlyOne(node, name) };
    case 'stopsignal':
      noFlags();
      return { ...base, kind: 'STOPSIGNAL', signal: exactlyOne(node, name) };
    case 'maintainer':
      noFlags();
      return { ...base, kind: 'MAINTAINER', name: exactlyOne(node, name) };
    case 'expose': {
      noFlags();
      const ports = listArgs(node, node.rest);
      if (ports.length === 0) throw new DockerfileError(node.startLine, 'EXPOSE requires at least one argument');
      return { ...base, kind: 'EXPOSE', ports };
    }
    case 'volume': {
      noFlags();
      const paths = listArgs(node, node.rest).map((p) => p.trim());
      if (paths.length === 0) throw new DockerfileError(node.startLine, 'VOLUME requires at least one argument');
      if (paths.some((p) => p === '')) throw new DockerfileError(node.startLine, 'VOLUME specified can not be an empty string');
      return { ...base, kind: 'VOLUME', paths };
    }
    case 'healthcheck':
      return parseHealthcheck(node, base);
    case 'onbuild': {
      noFlags();
      if (node.rest === '') throw new DockerfileError(node.startLine, 'ONBUILD requires at least one argument');
      const expression = node.original.replace(/^\s*ONBUILD\s*/i, '');
      const trigger = splitCommand(expression, node.startLine, node.endLine);
      if (trigger.cmd === 'onbuild') throw new DockerfileError(node.startLine, 'Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
      if (trigger.cmd === 'from' || trigger.cmd === 'maintainer') throw new DockerfileError(node.startLine, `${trigger.cmd.toUpperCase()} isn't allowed as an ONBUILD trigger`);
      parseInstruction(trigger, escape); // a bad trigger is an error now, not in some later build
      return { ...base, kind: 'ONBUILD', expression };
    }
    default:
      throw new DockerfileError(node.startLine, `unknown instruction: ${node.cmd.toUpperCase()}`);
  }
}

function parseHealthcheck(node: RawNode, base: Base): HealthcheckInstr {
  const m = /^(\S+)\s*([\s\S]*)$/.exec(node.rest);
  if (!m) throw new DockerfileError(node.startLine, 'HEALTHCHECK requires at least one argument');
  const typ = m[1].toUpperCase();
  if (typ === 'NONE') {
    new Flags(node, []);
    if (m[2] !== '') throw new DockerfileError(node.startLine, 'HEALTHCHECK NONE takes no arguments');
    return { ...base, kind: 'HEALTHCHECK', test: ['NONE'] };
  }
  if (typ !== 'CMD') throw new DockerfileError(node.startLine, `Unknown type ${JSON.stringify(typ)} in HEALTHCHECK (try CMD)`);
  const flags = new Flags(node, ['interval', 'timeout', 'start-period', 'start-interval', 'retries']);
  if (m[2] === '') throw flags.error('Missing command after HEALTHCHECK CMD');
  const cmd = commandLine(node, m[2]);
  const test = cmd.json ? ['CMD', ...cmd.args] : ['CMD-SHELL', cmd.shell];
  let retries: number | undefined;
  const r = flags.str('retries');
  if (r !== undefined && r !== '') {
    if (!/^[+-]?\d+$/.test(r)) throw flags.error(`strconv.ParseInt: parsing ${JSON.stringify(r)}: invalid syntax`);
    retries = parseInt(r, 10);
    if (retries < 0) throw flags.error(`--retries cannot be negative (${retries})`);
  }
  return {
    ...base,
    kind: 'HEALTHCHECK',
    test,
    interval: healthDuration(flags, 'interval'),
    timeout: healthDuration(flags, 'timeout'),
    startPeriod: healthDuration(flags, 'start-period'),
    startInterval: healthDuration(flags, 'start-interval'),
    retries,
  };
}

/** Apply word expansion to the fields Docker expands (not RUN/CMD/ENTRYPOINT/SHELL/HEALTHCHECK). */
export function expandInstruction<T extends Instruction>(instr: T, expand: (word: string) => string): T {
  const i = instr as Instruction;
  switch (i.kind) {
    case 'ENV':
    case 'LABEL':
      return { ...i, pairs: i.pairs.map((p) => ({ key: expand(p.key), value: expand(p.value) })) } as T;
    case 'ARG':
      return { ...i, args: i.args.map((a) => ({ key: expand(a.key), value: a.value === undefined ? undefined : expand(a.value) })) } as T;
    case 'COPY':
    case 'ADD':
      return {
        ...i,
        sources: i.sources.map(expand),
        dest: expand(i.dest),
        from: i.from === undefined ? undefined : expand(i.from),
        chown: i.chown === undefined ? undefined : expand(i.chown),
        chmod: i.chmod === undefined ? undefined : expand(i.chmod),
      } as T;
    case 'WORKDIR':
      return { ...i, path: expand(i.path) } as T;
    case 'USER':
      return { ...i, user: expand(i.user) } as T;
    case 'EXPOSE':
      return { ...i, ports: i.ports.map(expand) } as T;
    case 'VOLUME':
      return { ...i, paths: i.paths.map(expand) } as T;
    case 'STOPSIGNAL':
      return { ...i, signal: expand(i.signal) } as T;
    case 'FROM':
      return { ...i, image: expand(i.image), platform: i.platform === undefined ? undefined : expand(i.platform) } as T;
    default:
      return instr;
  }
}
