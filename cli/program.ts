// The command tree: commander with docker's conventions (--flag=false for booleans,
// repeatable list flags, 125 for run/create usage errors) and pluggable command groups.
import { Command, CommanderError, type Option } from 'commander';
import type { Cli } from './context';
import { ExitError, UsageError } from './errors';

/** A command whose boolean flags also take docker's "--flag=true|false" form. */
export class ShoalCommand extends Command {
  /** docker exits 125 for usage and daemon errors of run and create. */
  runLike = false;

  override createCommand(name?: string): ShoalCommand {
    return new ShoalCommand(name);
  }

  override parseOptions(argv: string[]) {
    return super.parseOptions(rewriteBooleans(this.options, argv, this.isPassThrough()));
  }

  private isPassThrough(): boolean {
    return (this as unknown as { _passThroughOptions?: boolean })._passThroughOptions === true;
  }

  /** Usage errors end the invocation with `code` (help and version with 0). */
  usageExit(code: number): this {
    return this.exitOverride((err: CommanderError) => {
      if (['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(err.code)) throw new ExitError(err.code === 'commander.help' ? err.exitCode : 0);
      throw new UsageError(code, err);
    });
  }

  /** Mark as run/create: usage errors exit 125. */
  markRunLike(): this {
    this.runLike = true;
    return this.usageExit(125);
  }
}

/**
 * Rewrite "--flag=true" to "--flag" and "--flag=false" to "--no-flag" (or drop it) for boolean
 * options, up to the first operand of a pass-through command (the container's own arguments).
 */
export function rewriteBooleans(options: readonly Option[], argv: string[], passThrough: boolean): string[] {
  const out: string[] = [];
  const byLong = new Map<string, Option>();
  const byShort = new Map<string, Option>();
  for (const o of options) {
    if (o.long) byLong.set(o.long, o);
    if (o.short) byShort.set(o.short, o);
  }
  const takesValue = (o: Option | undefined) => !!o && (o.required || o.optional);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a : a.slice(0, eq);
      const v = eq < 0 ? 'true' : a.slice(eq + 1).toLowerCase();
      const truthy = ['true', '1', 't'].includes(v);
      const falsy = ['false', '0', 'f'].includes(v);
      const opt = byLong.get(name);
      const neg = byLong.get(`--no-${name.slice(2)}`);
      if (!opt && neg?.negate && (truthy || falsy)) {
        // a default-on flag known by its negation: --sig-proxy[=true] is the default
        if (falsy) out.push(neg.long!);
        continue;
      }
      if (eq >= 0 && opt && !takesValue(opt) && (truthy || falsy)) {
        if (truthy) out.push(name);
        else if (neg?.negate) out.push(neg.long!);
        // a default-off flag set to false is simply not given
        continue;
      }
      out.push(a);
      if (eq < 0 && opt?.required && i + 1 < argv.length) out.push(argv[++i]);
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      out.push(a);
      // a short-flag group: a value-taking flag at its end takes the next argument
      for (let j = 1; j < a.length; j++) {
        const o = byShort.get(`-${a[j]}`);
        if (takesValue(o)) {
          if (j === a.length - 1 && o!.required && i + 1 < argv.length) out.push(argv[++i]);
          break;
        }
        if (!o) break;
      }
      continue;
    }
    if (passThrough) {
      out.push(...argv.slice(i));
      break;
    }
    out.push(a);
  }
  return out;
}

/** Collector for repeatable flags (-e A -e B). */
export const list = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];
/** Collector for comma-separated repeatable flags (--subnet a,b --subnet c). */
export const csvList = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), ...v.split(',').filter((x) => x !== '')];

/** A group of commands (container, image, network, ...) that registers itself on the program. */
export interface CommandGroup {
  register(program: ShoalCommand, cli: Cli): void;
}

/** One subcommand of a group: its definition, aliases, and docker's top-level shortcut if any. */
export interface SubCommand {
  name: string;
  aliases?: string[];
  /** The top-level name docker also gives it (ps for container ls). */
  top?: string;
  define: (cmd: ShoalCommand, cli: Cli) => void;
}

/** Add `shoal <name> <sub>` for each sub, plus the top-level shortcuts. */
export function registerGroup(program: ShoalCommand, cli: Cli, name: string, description: string, subs: SubCommand[]): ShoalCommand {
  const group = program.command(name).description(description);
  for (const s of subs) {
    const sub = group.command(s.name);
    if (s.aliases) sub.aliases(s.aliases);
    s.define(sub, cli);
    if (s.top) s.define(program.command(s.top), cli);
  }
  return group;
}

/** "container ls" for a subcommand, "run" for a top-level one. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c && c.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}
