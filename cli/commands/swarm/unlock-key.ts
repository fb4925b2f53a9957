// shoal swarm unlock-key [--rotate] [-q], and the unlock-key notice that init and update
// print when they turn autolock on (docker's wording, with shoal's command).
import type { Swarm } from '../../format/swarm-types';
import { ExitError } from '../../errors';
import type { ShoalCommand } from '../../program';
import { updateQuery, wrapError, type SwarmCli } from './common';

/** What docker prints after turning autolock on (and `unlock-key` without -q). */
export function unlockNotice(key: string): string {
  return (
    'To unlock a swarm manager after it restarts, run the `shoal swarm unlock`\n' +
    `command and provide the following key:\n\n    ${key}\n\n` +
    'Remember to store this key in a password manager, since without it you\n' +
    'will not be able to restart the manager.\n'
  );
}

/** GET /swarm/unlockkey: "" when autolock is off. */
export async function fetchUnlockKey(cli: SwarmCli): Promise<string> {
  try {
    const r = await cli.client.get<{ UnlockKey?: string }>('/swarm/unlockkey');
    return r?.UnlockKey ?? '';
  } catch (e) {
    throw wrapError(cli, 'could not fetch unlock key', e);
  }
}

/** After init or update turned autolock on: the notice, unless the daemon has no key to give. */
export async function printUnlockKey(cli: SwarmCli): Promise<void> {
  const key = await fetchUnlockKey(cli);
  if (key) cli.out(unlockNotice(key));
}

export interface UnlockKeyFlags {
  rotate?: boolean;
  quiet?: boolean;
}

export async function runUnlockKey(cli: SwarmCli, o: UnlockKeyFlags): Promise<void> {
  if (o.rotate) {
    const sw = await cli.client.get<Swarm>('/swarm');
    if (!sw.Spec?.EncryptionConfig?.AutoLockManagers) throw new ExitError(1, 'cannot rotate because autolock is not turned on');
    await cli.client.post('/swarm/update', { query: updateQuery(sw.Version?.Index, { unlockKey: true }), body: sw.Spec });
    if (!o.quiet) cli.line('Successfully rotated manager unlock key.');
  }
  const key = await fetchUnlockKey(cli);
  if (!key) throw new ExitError(1, 'no unlock key is set');
  if (o.quiet) cli.line(key);
  else cli.out(unlockNotice(key));
}

export function defineUnlockKey(cmd: ShoalCommand, cli: SwarmCli): void {
  cmd
    .description('Manage the unlock key')
    .option('-q, --quiet', 'Only display token')
    .option('--rotate', 'Rotate unlock key')
    .action(() => runUnlockKey(cli, cmd.opts()));
}
