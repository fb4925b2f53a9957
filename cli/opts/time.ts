import { FlagError, OptionError } from './errors';
import { parseGoDuration } from './values';

/**
 * docker's --since/--until value for the API: a duration is relative to now (unix seconds),
 * an RFC 3339 date or date-time becomes "seconds.nanoseconds", a unix timestamp passes through.
 */
export function apiTimestamp(value: string, now = Date.now()): string {
  if (value !== '0') {
    try {
      const ns = parseGoDuration(value, 'time');
      return String(Math.trunc((now - ns / 1e6) / 1000));
    } catch (e) {
      if (!(e instanceof FlagError)) throw e;
    }
  }
  if (/^\d+(\.\d+)?$/.test(value)) return value;
  if (value.includes('-') || value.includes('T')) {
    let v = value;
    // a date-time without seconds or minutes, as docker accepts it
    if (/T\d{2}$/.test(v)) v += ':00:00';
    else if (/T\d{2}:\d{2}$/.test(v)) v += ':00';
    const hasZone = /[zZ]|[+-]\d{2}:?\d{2}$/.test(v.slice(10));
    // JavaScript reads a date without a time as UTC, docker as local time
    const ms = Date.parse(!hasZone && /^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00` : v);
    if (!Number.isNaN(ms)) {
      const frac = /\.(\d+)/.exec(v)?.[1] ?? '';
      const nanos = (frac + '000000000').slice(0, 9);
      return `${Math.floor(ms / 1000)}.${nanos}`;
    }
    throw new OptionError(`parsing time "${value}": cannot parse "${value}" as a date`);
  }
  throw new OptionError(`failed to parse value as time or duration: "${value}"`);
}
