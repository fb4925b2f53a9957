// What the swarm commands need of an invocation: a narrow view of Cli (so that their flows can
// be driven by a recording fake in unit tests), and the query every POST /swarm/update carries.
import type { CliClient } from '../../client';
import type { CliIO } from '../../context';
import { describeError } from '../../errors';

/** The part of Cli the swarm commands use; a Cli is one. */
export interface SwarmCli {
  readonly host: string;
  readonly client: Pick<CliClient, 'get' | 'post'>;
  readonly io: Pick<CliIO, 'stdin' | 'stdout'>;
  out(s: string): void;
  line(s?: string): void;
}

export interface Rotations {
  worker?: boolean;
  manager?: boolean;
  unlockKey?: boolean;
}

/** POST /swarm/update's query: the version read, and which secrets to rotate (docker always sends all three). */
export function updateQuery(version: number | undefined, rotate: Rotations = {}): Record<string, string | number> {
  return {
    rotateManagerToken: String(!!rotate.manager),
    rotateManagerUnlockKey: String(!!rotate.unlockKey),
    rotateWorkerToken: String(!!rotate.worker),
    version: version ?? 0,
  };
}

/** An error as docker shows a wrapped one: "<context>: <what the error alone would print>". */
export function wrapError(cli: SwarmCli, context: string, err: unknown): Error {
  const inner = describeError(err, { host: cli.host, runLike: false }).message ?? '';
  return new Error(`${context}: ${inner}`);
}
