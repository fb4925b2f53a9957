// SecretSpec and ConfigSpec as POST /secrets/create, /configs/create and their updates accept
// them: swarmkit's rules and messages for names and sizes, Data as strict base64 (Go's
// []byte), unknown fields refused. Secret drivers and template drivers are not supported.
import { invalid } from '../../shared/errors';
import { SpecChecker, type Check } from '../spec/schema';

/** swarmkit's MaxSecretSize: data must be shorter. */
export const MAX_SECRET_BYTES = 500 * 1024;
/** swarmkit's MaxConfigSize (raised from 500 KiB in swarmkit v2). */
export const MAX_CONFIG_BYTES = 1000 * 1024;

export type PayloadNoun = 'secret' | 'config';

export interface Driver {
  Name?: string;
  Options?: Record<string, string>;
}

/** A validated spec; Data decoded (absent only in an update that leaves it out). */
export interface PayloadSpec {
  Name: string;
  Labels: Record<string, string>;
  Data?: Buffer;
  Driver?: Driver;
  Templating?: Driver;
}

const NAME = /^[a-zA-Z0-9]+(?:[a-zA-Z0-9-_.]*[a-zA-Z0-9])?$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Go's base64.StdEncoding as encoding/json reads []byte: padded, CR and LF ignored. */
export function decodeBase64(s: string, path: string): Buffer {
  const text = s.replace(/[\r\n]/g, '');
  if (!BASE64.test(text)) throw invalid(`${path}: must be base64 (standard alphabet, padded)`);
  return Buffer.from(text, 'base64');
}

export function checkPayloadName(name: string | undefined): string {
  if (!name) throw invalid('name must be provided');
  if (name.length > 64 || !NAME.test(name)) throw invalid('invalid name, only 64 [a-zA-Z0-9-_.] characters allowed, and the start and end character must be [a-zA-Z0-9]');
  return name;
}

export function maxBytes(noun: PayloadNoun): number {
  return noun === 'secret' ? MAX_SECRET_BYTES : MAX_CONFIG_BYTES;
}

/** The spec, checked; `update` allows Data to be absent (only labels may change then). */
export function validatePayloadSpec(noun: PayloadNoun, input: unknown, opts: { update?: boolean } = {}): PayloadSpec {
  const c = new SpecChecker(`invalid ${noun} spec`);
  const driver: Check<Driver> = (v, p) => c.object<Driver>(v, p, { Name: c.string, Options: c.stringMap });
  const fields: Record<string, Check> = {
    Name: c.string,
    Labels: c.stringMap,
    Data: (v, p) => decodeBase64(c.string(v, p), `invalid ${noun} spec: ${p}`),
    Templating: driver,
  };
  if (noun === 'secret') fields.Driver = driver;
  const spec = c.object<PayloadSpec>(input ?? {}, '', fields);
  spec.Name = checkPayloadName(spec.Name);
  spec.Labels ??= {};
  if (spec.Driver?.Name) throw invalid(`secret drivers are not supported: the secret's data must be given (Driver ${JSON.stringify(spec.Driver.Name)})`);
  if (spec.Driver) delete spec.Driver;
  if (spec.Templating?.Name) throw invalid(`template drivers are not supported: ${noun} data is used as given (Templating ${JSON.stringify(spec.Templating.Name)})`);
  if (spec.Templating) delete spec.Templating;
  if (spec.Data === undefined && opts.update) return spec;
  const n = spec.Data?.length ?? 0;
  const max = maxBytes(noun);
  if (n < 1 || n >= max) throw invalid(`${noun} data must be larger than 0 and less than ${max} bytes`);
  return spec;
}
