// Human-readable durations, sizes and truncation exactly as the docker CLI prints them
// (go-units HumanDuration / HumanSizeWithPrecision, stringid.TruncateID, formatter.Ellipsis).

/** "Less than a second", "5 seconds", "About a minute", "3 hours", "2 weeks"... */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.trunc(ms / 3_600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(ms / 3_600_000 / 24 / 365)} years`;
}

/** "3 minutes ago" for a unix time in seconds. */
export function since(unixSeconds: number, now = Date.now()): string {
  return `${humanDuration(now - unixSeconds * 1000)} ago`;
}

/** Go's strconv 'g' formatting with a precision: significant digits, trailing zeros dropped, e+NN exponents. */
export function goFormatG(v: number, precision: number): string {
  if (v === 0) return '0';
  const [mant, e] = v.toExponential(precision - 1).split('e');
  const exp = parseInt(e, 10);
  const trim = (x: string) => (x.includes('.') ? x.replace(/0+$/, '').replace(/\.$/, '') : x);
  if (exp < -4 || exp >= precision) {
    const abs = Math.abs(exp);
    return `${trim(mant)}e${exp < 0 ? '-' : '+'}${abs < 10 ? '0' : ''}${abs}`;
  }
  return trim(v.toFixed(Math.max(0, precision - 1 - exp)));
}

const DECIMAL_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];

/** Decimal sizes as docker prints them: 2.14MB (precision 3 for tables, 4 for totals). */
export function humanSize(bytes: number, precision = 4): string {
  let size = bytes;
  let i = 0;
  while (size >= 1000 && i < DECIMAL_UNITS.length - 1) {
    size /= 1000;
    i++;
  }
  return `${goFormatG(size, precision)}${DECIMAL_UNITS[i]}`;
}

/** The 12-character short form of an ID, without its "sha256:" prefix. */
export function truncateId(id: string): string {
  const i = id.indexOf(':');
  const bare = i >= 0 ? id.slice(i + 1) : id;
  return bare.length > 12 ? bare.slice(0, 12) : bare;
}

/** Cut a string to `max` characters, ending it with an ellipsis when cut. */
export function ellipsis(s: string, max: number): string {
  const chars = [...s];
  if (chars.length <= max) return s;
  if (max <= 1) return chars.slice(0, max).join('');
  return `${chars.slice(0, max - 1).join('')}…`;
}

const pad2 = (n: number) => String(n).padStart(2, '0');

function zoneOffset(d: Date): string {
  const off = -d.getTimezoneOffset();
  const sign = off < 0 ? '-' : '+';
  const a = Math.abs(off);
  return `${sign}${pad2(Math.trunc(a / 60))}${pad2(a % 60)}`;
}

function zoneName(d: Date): string {
  if (d.getTimezoneOffset() === 0 && (process.env.TZ === undefined || process.env.TZ === '' || /^(UTC|Etc\/UTC|GMT)$/i.test(process.env.TZ ?? ''))) return 'UTC';
  const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName');
  return part?.value ?? zoneOffset(d);
}

/**
 * Go's time.Time.String() for a local time: "2006-01-02 15:04:05.999999999 -0700 MST";
 * `fraction` is the sub-second digits when known more precisely than milliseconds.
 */
export function goTimeString(ms: number, fraction?: string): string {
  const d = new Date(ms);
  const frac = (fraction ?? String(((ms % 1000) + 1000) % 1000).padStart(3, '0')).replace(/0+$/, '');
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}${frac ? `.${frac}` : ''} ${zoneOffset(d)} ${zoneName(d)}`;
}

/** An RFC 3339 date from the API as Go prints the time.Time. */
export function goTimeOf(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return '';
  return goTimeString(ms, /\.(\d+)/.exec(iso)?.[1] ?? '');
}

/** RFC 3339 with nine fractional digits in local time ("2006-01-02T15:04:05.000000000Z07:00"). */
export function rfc3339NanoFixed(nanos: bigint): string {
  const ms = Number(nanos / 1_000_000n);
  const frac = String(nanos % 1_000_000_000n).padStart(9, '0');
  const d = new Date(ms);
  const off = -d.getTimezoneOffset();
  const zone = off === 0 ? 'Z' : `${off < 0 ? '-' : '+'}${pad2(Math.trunc(Math.abs(off) / 60))}:${pad2(Math.abs(off) % 60)}`;
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}T${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.${frac}${zone}`;
}

/** Go's time.RFC3339 for a local time: "2006-01-02T15:04:05Z07:00". */
export function rfc3339(ms: number): string {
  const d = new Date(ms);
  const off = -d.getTimezoneOffset();
  const zone = off === 0 ? 'Z' : `${off < 0 ? '-' : '+'}${pad2(Math.trunc(Math.abs(off) / 60))}:${pad2(Math.abs(off) % 60)}`;
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}T${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}${zone}`;
}
