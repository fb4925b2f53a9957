import { invalid } from '../../../shared/errors';

export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

const CTRL_SPECIAL: Record<string, number> = { '@': 0, '[': 27, '\\': 28, ']': 29, '^': 30, _: 31 };

/** "ctrl-p,ctrl-q" -> [16, 17]; single characters stand for themselves (docker --detach-keys). */
export function parseDetachKeys(spec: string | undefined): number[] {
  const s = spec === undefined || spec === '' ? DEFAULT_DETACH_KEYS : spec;
  return s.split(',').map((k) => {
    const key = k.trim();
    if (key.length === 1) return key.charCodeAt(0);
    const m = /^ctrl-(.)$/.exec(key);
    if (m) {
      const c = m[1];
      if (/[a-z]/.test(c)) return c.charCodeAt(0) - 96;
      if (c in CTRL_SPECIAL) return CTRL_SPECIAL[c];
    }
    throw invalid(`Invalid detach keys (${s}) provided`);
  });
}

/**
 * Watches client input for the detach sequence. Bytes that might begin it are held back
 * until they match (detach) or not (passed on), so the process never sees the sequence.
 */
export class DetachScanner {
  private held: number[] = [];

  constructor(private readonly keys: number[]) {}

  push(chunk: Buffer): { pass: Buffer; detached: boolean } {
    const out: number[] = [];
    for (const b of chunk) {
      if (b === this.keys[this.held.length]) {
        this.held.push(b);
        if (this.held.length === this.keys.length) return { pass: Buffer.from(out), detached: true };
        continue;
      }
      out.push(...this.held);
      this.held = [];
      if (b === this.keys[0]) this.held.push(b);
      else out.push(b);
    }
    return { pass: Buffer.from(out), detached: false };
  }
}
