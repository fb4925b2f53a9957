import type { Command } from 'commander';
import { Cli, processIO, type CliIO } from './context';
import { describeError } from './errors';
import { ShoalCommand, commandPath, type CommandGroup } from './program';
import { GROUPS } from './commands';
import { CLI_VERSION } from './commands/system';

/** The whole command tree for one invocation. */
export function buildProgram(cli: Cli, groups: CommandGroup[] = GROUPS): ShoalCommand {
  const program = new ShoalCommand('shoal');
  program
    .description('A Swarm-style container orchestrator: docker\'s verbs over the shoald API')
    .usage('[OPTIONS] COMMAND')
    .option('-H, --host <address>', 'Daemon socket to connect to (unix:///path or tcp://host:port)')
    .option('-D, --debug', 'Enable debug mode')
    .option('-l, --log-level <level>', 'Set the logging level ("debug"|"info"|"warn"|"error"|"fatal")')
    .option('--tls', 'Use TLS; implied by --tlsverify')
    .option('--tlsverify', 'Use TLS and verify the remote')
    .option('--tlscacert <path>', 'Trust certs signed only by this CA (default "~/.docker/ca.pem")')
    .option('--tlscert <path>', 'Path to TLS certificate file (default "~/.docker/cert.pem")')
    .option('--tlskey <path>', 'Path to TLS key file (default "~/.docker/key.pem")')
    .version(`shoal version ${CLI_VERSION}`, '-v, --version', 'Print version information and quit')
    .helpOption('-h, --help', 'Print usage')
    .enablePositionalOptions()
    .configureOutput({ writeOut: (s) => cli.io.stdout.write(s), writeErr: (s) => cli.io.stderr.write(s) })
    .usageExit(1);
  program.hook('preAction', (_root, action: Command) => {
    cli.command = commandPath(action);
    cli.runLike = (action as ShoalCommand).runLike === true;
    const o = program.opts();
    cli.setHost(o.host, { tls: o.tls, tlsverify: o.tlsverify, tlscacert: o.tlscacert, tlscert: o.tlscert, tlskey: o.tlskey });
  });
  for (const g of groups) g.register(program, cli);
  return program;
}

/** Run one invocation; resolves with the exit code. Output goes to `io`, never a stack trace. */
export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  const cli = new Cli(io);
  try {
    const program = buildProgram(cli);
    await program.parseAsync(argv, { from: 'user' });
    return cli.exitCode;
  } catch (e) {
    const report = describeError(e, { host: cli.host, runLike: cli.runLike, command: cli.command || undefined });
    if (report.message) io.stderr.write(report.message.endsWith('\n') ? report.message : `${report.message}\n`);
    return report.code;
  } finally {
    cli.close();
  }
}

/** The `shoal` process: run, flush stdout and stderr, exit with the code. */
export function runCli(argv: string[] = process.argv.slice(2)): void {
  // A closed stdout (shoal ps | head) ends the process quietly, as docker does.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
  });
  // Last resort: whatever slipped through is one line on stderr, never a stack trace.
  const fatal = (e: unknown) => {
    process.stderr.write(`shoal: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
  main(argv).then(
    (code) => exitAfterFlush(code),
    (e) => {
      process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
      exitAfterFlush(1);
    },
  );
}

function exitAfterFlush(code: number): void {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}
