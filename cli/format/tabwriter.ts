// Elastic tabstops as Go's text/tabwriter lays them out (flags 0, space padding), which is
// what docker's tables go through: cells are tab-terminated, a column's width is the widest
// cell of its block plus padding (at least minwidth), and a line without tabs ends every block.

export interface TabOptions {
  minwidth: number;
  padding: number;
}

/** docker's table settings: tabwriter.NewWriter(out, 10, 1, 3, ' ', 0). */
export const TABLE: TabOptions = { minwidth: 10, padding: 3 };

const width = (s: string) => [...s].length;

export function tabulate(text: string, opts: TabOptions = TABLE): string {
  const lines = text.split('\n').map((l) => l.split('\t'));
  // A line with a single cell (no tab) terminates all column blocks: format in segments.
  let out = '';
  let start = 0;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].length === 1) {
      out += formatBlock(lines.slice(start, i + 1), opts);
      if (i < lines.length - 1) out += '\n';
      start = i + 1;
    }
  }
  if (start < lines.length) out += formatBlock(lines.slice(start), opts);
  return out;
}

function formatBlock(lines: string[][], opts: TabOptions): string {
  const rendered: string[] = lines.map(() => '');
  const widths: number[] = [];
  const writeLines = (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const cells = lines[i];
      let s = '';
      for (let j = 0; j < cells.length; j++) {
        s += cells[j];
        if (j < widths.length) s += ' '.repeat(Math.max(0, widths[j] - width(cells[j])));
      }
      rendered[i] = s;
    }
  };
  const format = (line0: number, line1: number) => {
    const column = widths.length;
    for (let t = line0; t < line1; t++) {
      if (column >= lines[t].length - 1) continue;
      writeLines(line0, t);
      line0 = t;
      let w = opts.minwidth;
      for (; t < line1; t++) {
        if (column >= lines[t].length - 1) break;
        w = Math.max(w, width(lines[t][column]) + opts.padding);
      }
      widths.push(w);
      format(line0, t);
      widths.pop();
      line0 = t;
    }
    writeLines(line0, line1);
  };
  format(0, lines.length);
  return rendered.join('\n');
}
