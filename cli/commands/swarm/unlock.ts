// shoal swarm unlock: only a locked node is asked for its key (GET /info first), then
// POST /swarm/unlock. On a terminal the key is typed without echo; otherwise one line of stdin.
import type { SwarmInfo } from '../../format/swarm-types';
import { ExitError } from '../../errors';
import { readLine } from '../../io/prompt';
import type { ShoalCommand } from '../../program';
import type { SwarmCli } from './common';

type Stdin = SwarmCli['io']['stdin'];

/** docker's refusal for a node that is not locked; undefined when the key should be asked for. */
export function unlockRefusal(state: string | undefined): string | undefined {
  if (state === 'inactive') return 'Error: This node is not part of a swarm';
  // Any other state (locked, or one docker does not know) goes on to ask for the key.
  if (state === 'pending' || state === 'active' || state === 'error') return 'Error: swarm is not locked';
  return undefined;
}

/**
 * Read a secret typed on a terminal without showing it: Enter ends it, backspace and Ctrl-U
 * edit it, Ctrl-C gives up (exit 130), Ctrl-D or the end of input on an empty line is EOF.
 */
export function readSecret(stdin: Stdin): Promise<string> {
  return new Promise((resolve, reject) => {
    let key = '';
    const raw = typeof stdin.setRawMode === 'function';
    const finish = (err?: Error) => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      if (raw) stdin.setRawMode!(false);
      stdin.pause();
      if (err) reject(err);
      else resolve(key);
    };
    const onEnd = () => finish(key === '' ? new ExitError(1, 'EOF') : undefined);
    const onData = (chunk: Buffer | string) => {
      for (const ch of chunk.toString()) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\x03') return finish(new ExitError(130));
        if (ch === '\x04') {
          if (key === '') return finish(new ExitError(1, 'EOF'));
        } else if (ch === '\x7f' || ch === '\b') key = key.slice(0, -1);
        else if (ch === '\x15') key = '';
        else key += ch;
      }
    };
    if (raw) stdin.setRawMode!(true);
    stdin.on('data', onData);
    stdin.once('end', onEnd);
    stdin.resume();
  });
}

/** The key as docker reads it: prompted for on a terminal, else the first line of stdin, trimmed. */
export async function readUnlockKey(cli: SwarmCli, prompt: string): Promise<string> {
  const stdin = cli.io.stdin;
  if (!stdin.isTTY) return (await readLine(stdin)).trim();
  cli.out(prompt);
  try {
    return await readSecret(stdin);
  } finally {
    cli.out('\n');
  }
}

export async function runUnlock(cli: SwarmCli): Promise<void> {
  const info = await cli.client.get<{ Swarm?: SwarmInfo }>('/info');
  const refusal = unlockRefusal(info.Swarm?.LocalNodeState);
  if (refusal) throw new ExitError(1, refusal);
  const key = await readUnlockKey(cli, 'Enter unlock key: ');
  await cli.client.post('/swarm/unlock', { body: { UnlockKey: key } });
}

export function defineUnlock(cmd: ShoalCommand, cli: SwarmCli): void {
  cmd.description('Unlock swarm').action(() => runUnlock(cli));
}
