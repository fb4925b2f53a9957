import { invalid } from '../../../shared/errors';
import type { HealthConfig, ImageRuntimeConfig } from '../contracts';
import type { ContainerConfig, CreateRequest } from './types';

export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function envKey(e: string): string {
  const i = e.indexOf('=');
  return i < 0 ? e : e.slice(0, i);
}

/** Container env first, then image entries whose keys the container does not set (dockerd's order). */
export function mergeEnv(container: string[] | null | undefined, image: string[] | null | undefined): string[] {
  const user = container ?? [];
  if (!user.length) return [...(image ?? [])];
  const keys = new Set(user.map(envKey));
  return [...user, ...(image ?? []).filter((e) => !keys.has(envKey(e)))];
}

/** Set `key` unless the env already has it. */
export function envWithDefault(env: string[], entry: string): string[] {
  const k = envKey(entry);
  return env.some((e) => envKey(e) === k) ? env : [...env, entry];
}

function mergeHealthcheck(user: HealthConfig | undefined, image: HealthConfig | undefined): HealthConfig | undefined {
  if (!user) return image ? { ...image } : undefined;
  if (!image) return { ...user };
  const out: HealthConfig = { ...user };
  if (!out.Test || out.Test.length === 0) out.Test = image.Test;
  if (!out.Interval) out.Interval = image.Interval;
  if (!out.Timeout) out.Timeout = image.Timeout;
  if (!out.StartPeriod) out.StartPeriod = image.StartPeriod;
  if (!out.StartInterval) out.StartInterval = image.StartInterval;
  if (!out.Retries) out.Retries = image.Retries;
  return out;
}

/**
 * Merge an image's config into a create request the way dockerd does:
 *  - Entrypoint: the request's if given (even [""], which clears it), else the image's;
 *  - Cmd: the request's if given; the image's only when the request set no Entrypoint
 *    (an Entrypoint override drops the image's Cmd);
 *  - Env: request entries win over image entries with the same key; PATH defaults;
 *  - Labels, ExposedPorts, Volumes: union, request wins;
 *  - User, WorkingDir, StopSignal, Shell: request if set, else image;
 *  - Healthcheck: the request's, with unset fields from the image's.
 * Returns the merged Config plus the process path and args; no command at all is an error.
 */
export function mergeConfig(req: CreateRequest, image: ImageRuntimeConfig, defaults: { hostname: string; imageRef: string }): { config: ContainerConfig; path: string; args: string[] } {
  const userEntry = req.Entrypoint ?? null;
  const entrypointGiven = userEntry !== null && userEntry.length > 0;
  let entrypoint: string[] | null;
  let cmd: string[] | null = req.Cmd && req.Cmd.length ? [...req.Cmd] : null;
  if (entrypointGiven) {
    // [""] means "no entrypoint" (docker run --entrypoint "").
    entrypoint = userEntry.length === 1 && userEntry[0] === '' ? null : [...userEntry];
  } else {
    entrypoint = image.Entrypoint && image.Entrypoint.length ? [...image.Entrypoint] : null;
    if (!cmd) cmd = image.Cmd && image.Cmd.length ? [...image.Cmd] : null;
  }
  const argv = [...(entrypoint ?? []), ...(cmd ?? [])];
  if (argv.length === 0 || argv[0] === '') throw invalid('No command specified');

  let env = mergeEnv(req.Env, image.Env);
  env = envWithDefault(env, DEFAULT_PATH);

  const exposed: Record<string, object> = {};
  for (const p of Object.keys(image.ExposedPorts ?? {})) exposed[normalizePort(p)] = {};
  for (const p of Object.keys(req.ExposedPorts ?? {})) exposed[normalizePort(p)] = {};
  const volumes: Record<string, object> = { ...(image.Volumes ?? {}), ...(req.Volumes ?? {}) };

  const config: ContainerConfig = {
    Hostname: req.Hostname || defaults.hostname,
    Domainname: req.Domainname ?? '',
    User: req.User || image.User || '',
    AttachStdin: req.AttachStdin ?? false,
    AttachStdout: req.AttachStdout ?? false,
    AttachStderr: req.AttachStderr ?? false,
    ...(Object.keys(exposed).length ? { ExposedPorts: exposed } : {}),
    Tty: req.Tty ?? false,
    OpenStdin: req.OpenStdin ?? false,
    StdinOnce: req.StdinOnce ?? false,
    Env: env,
    Cmd: cmd,
    ...(() => {
      const h = mergeHealthcheck(req.Healthcheck, image.Healthcheck);
      return h ? { Healthcheck: h } : {};
    })(),
    Image: defaults.imageRef,
    Volumes: Object.keys(volumes).length ? volumes : null,
    WorkingDir: req.WorkingDir || image.WorkingDir || '',
    Entrypoint: entrypoint,
    OnBuild: null,
    Labels: { ...(image.Labels ?? {}), ...(req.Labels ?? {}) },
    ...(req.StopSignal || image.StopSignal ? { StopSignal: req.StopSignal || image.StopSignal } : {}),
    ...(req.StopTimeout !== undefined && req.StopTimeout !== null ? { StopTimeout: req.StopTimeout } : {}),
    ...(req.Shell?.length || image.Shell?.length ? { Shell: req.Shell?.length ? req.Shell : image.Shell } : {}),
    ...(req.NetworkDisabled ? { NetworkDisabled: true } : {}),
    ...(req.MacAddress ? { MacAddress: req.MacAddress } : {}),
  };
  return { config, path: argv[0], args: argv.slice(1) };
}

/** "80" -> "80/tcp"; "53/UDP" -> "53/udp". */
export function normalizePort(p: string): string {
  const [port, proto] = p.split('/');
  if (!/^\d+(-\d+)?$/.test(port)) throw invalid(`invalid port specification: "${p}"`);
  const pr = (proto ?? 'tcp').toLowerCase();
  if (!['tcp', 'udp', 'sctp'].includes(pr)) throw invalid(`invalid protocol "${proto}" in port "${p}"`);
  return `${port}/${pr}`;
}
