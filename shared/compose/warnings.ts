// Warnings about what a swarm ignores in a stack file; nothing is dropped silently.
import type { Pos } from './errors';

export interface StackWarning {
  /** unsupported/deprecated: docker's two lists; ignored: other keys without effect; variable: unset ${VAR}. */
  kind: 'unsupported' | 'deprecated' | 'ignored' | 'variable';
  service?: string;
  key?: string;
  pos?: Pos;
  message: string;
}

/**
 * The CLI's text, grouped as `docker stack deploy` prints it ("Ignoring unsupported options:
 * build, links"), followed by one line per warning that names the service.
 */
export function formatStackWarnings(warnings: readonly StackWarning[]): string {
  const lines: string[] = [];
  const keys = (kind: StackWarning['kind']) => [...new Set(warnings.filter((w) => w.kind === kind).map((w) => w.key!))].sort();
  const unsupported = keys('unsupported');
  const deprecated = keys('deprecated');
  if (unsupported.length) lines.push(`Ignoring unsupported options: ${unsupported.join(', ')}`);
  if (deprecated.length) lines.push(`Ignoring deprecated options: ${deprecated.join(', ')}`);
  for (const w of warnings) lines.push(w.pos ? `${w.pos.file}:${w.pos.line}:${w.pos.column}: ${w.message}` : w.message);
  return lines.join('\n');
}
