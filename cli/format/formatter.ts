import { HTML_ESCAPED_JSON, parseTemplate, TemplateError } from './template';
import { tabulate } from './tabwriter';

/** How docker's list commands interpret --format: "table", "table TEMPLATE", "json", or a template. */
export interface ParsedFormat {
  table: boolean;
  template: string;
}

export function parseFormat(format: string | undefined, defaultTable: string): ParsedFormat {
  let f = format ?? '';
  if (f === '' || f === 'table') f = defaultTable;
  else if (f === 'json') f = '{{json .}}';
  const table = f.startsWith('table');
  if (table) f = f.slice('table'.length);
  // docker trims spaces and turns the two-character escapes \t and \n into real tabs and newlines
  f = f.replace(/^ +| +$/g, '').replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  return { table, template: f };
}

/** A row object for --format: plain fields, plus methods (functions) such as Label(key). */
export type Row = Record<string, unknown>;

/**
 * Render rows with a format: in table mode a header row (the template over `headers`)
 * and tab-aligned columns; otherwise one template output per row.
 */
export function renderRows(format: ParsedFormat, rows: Row[], headers: Row): string {
  let tmpl;
  try {
    tmpl = parseTemplate(format.template);
  } catch (e) {
    throw new TemplateError(`template parsing error: ${(e as Error).message}`);
  }
  const body = rows.map((r) => `${tmpl.execute(r)}\n`).join('');
  if (!format.table) return body;
  const header = tmpl.executeHeader(headers);
  return tabulate(`${header}\n${body}`);
}

/** Make a method property that JSON serialisation skips (like Go's context methods). */
export function withMethods<T extends Row>(row: T, methods: Record<string, (...a: unknown[]) => unknown>): T {
  for (const [k, f] of Object.entries(methods)) Object.defineProperty(row, k, { value: f, enumerable: false });
  return row;
}

/** A formatter context row: its methods, and Go's json.Marshal escaping for {{json .}}. */
export function contextRow<T extends Row>(row: T, methods: Record<string, (...a: unknown[]) => unknown> = {}): T {
  Object.defineProperty(row, HTML_ESCAPED_JSON, { value: true, enumerable: false });
  return withMethods(row, methods);
}

/** Objects with keys in sorted order, as Go marshals a map. */
export function sortedKeys<T extends Row>(row: T): T {
  const out: Row = {};
  for (const k of Object.keys(row).sort()) out[k] = row[k];
  return out as T;
}
