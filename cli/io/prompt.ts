import type { Cli } from '../context';

/** Read one line from stdin (or what is there when it ends). */
export function readLine(stdin: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve) => {
    let buf = '';
    const done = () => {
      stdin.off('data', onData);
      stdin.off('end', done);
      stdin.off('error', done);
      stdin.pause();
      resolve(buf.split('\n')[0]);
    };
    const onData = (c: Buffer | string) => {
      buf += c.toString();
      if (buf.includes('\n')) done();
    };
    stdin.on('data', onData);
    stdin.once('end', done);
    stdin.once('error', done);
    stdin.resume();
  });
}

/** docker's "[y/N]" confirmation on stdout; only y or yes goes ahead. */
export async function confirm(cli: Cli, warning: string): Promise<boolean> {
  cli.out(`${warning}\nAre you sure you want to continue? [y/N] `);
  const answer = await readLine(cli.io.stdin);
  return /^(y|yes)$/i.test(answer.trim());
}
