import { ExitError } from '../errors';
import { parseTemplate, TemplateError, type Template } from './template';

/** Parse an inspect --format template; docker exits 64 for a bad one. */
export function inspectTemplate(format: string | undefined): Template | undefined {
  if (!format || format === 'json') return undefined;
  try {
    return parseTemplate(format.replace(/\\t/g, '\t').replace(/\\n/g, '\n'));
  } catch (e) {
    throw new ExitError(64, `template parsing error: ${(e as Error).message}`);
  }
}

/** The inspect output: an indented JSON array, or the template once per object. */
export function renderInspect(items: unknown[], tmpl: Template | undefined): string {
  if (!tmpl) return `${JSON.stringify(items, null, 4)}\n`;
  return items
    .map((it) => {
      try {
        return `${tmpl.execute(it)}\n`;
      } catch (e) {
        if (e instanceof TemplateError) throw new ExitError(1, e.message);
        throw e;
      }
    })
    .join('');
}
