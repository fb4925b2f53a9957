#!/usr/bin/env node
// deploy/lab: the multi-host lab's command line (deploy/lab is a thin wrapper around this).
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { tabulate } from '../../cli/format/tabwriter';
import { errorMessage } from '../../shared/errors';
import { Lab, labName } from './lab';

const say = (msg: string) => process.stderr.write(`lab: ${msg}\n`);

function count(v: string): number {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError('expected a whole number');
  return Number(v);
}

/** Every subcommand takes --name too, so it may follow the verb. */
function sub(program: Command, spec: string, description: string): Command {
  return program.command(spec).description(description).option('--name <name>', 'lab name (default $SHOAL_LAB, else "lab")');
}

function nameOf(cmd: Command): string {
  return labName(cmd.opts().name ?? cmd.parent?.opts().name);
}

function table(lab: Lab): string {
  const rows = lab.status().map((h) => [h.name, h.role, h.address, h.socket ?? '-', h.pid ? String(h.pid) : '-', h.cut ? `${h.state},cut` : h.state]);
  return tabulate([['HOST', 'ROLE', 'ADDRESS', 'SOCKET', 'PID', 'STATE'], ...rows].map((r) => r.join('\t')).join('\n'));
}

export function program(): Command {
  const p = new Command('lab')
    .description('the multi-host lab: hosts as network namespaces on this machine, each running its own shoald')
    .option('--name <name>', 'lab name (default $SHOAL_LAB, else "lab")')
    .showHelpAfterError();

  sub(p, 'up', 'create the hosts (m1..mM, w1..wW, and reg with --registry), start them and form a cluster')
    .option('--managers <n>', 'manager hosts', count, 1)
    .option('--workers <n>', 'worker hosts', count, 2)
    .option('--registry', 'add host reg running docker-registry on :5000, loaded with busybox')
    .option('--standalone', 'hosts without a cluster (no swarm init/join)')
    .option('--autolock', 'swarm init --autolock: restarted managers stay locked until `docker swarm unlock` (the key is printed)')
    .option('--log-level <level>', "shoald's log level", 'info')
    .action(async (o, cmd: Command) => {
      const lab = await Lab.up({ name: nameOf(cmd), managers: o.managers, workers: o.workers, registry: !!o.registry, standalone: !!o.standalone, autolock: !!o.autolock, logLevel: o.logLevel, log: say });
      say(`lab ${lab.name} is up on ${lab.subnet}${lab.registry ? `, registry ${lab.registry}` : ''}`);
      process.stdout.write(table(lab) + '\n');
    });

  sub(p, 'ls', "list the lab's hosts: role, address, socket, pid and state")
    .option('--format <format>', 'table or json', 'table')
    .action(async (o, cmd: Command) => {
      if (o.format !== 'table' && o.format !== 'json') throw new InvalidArgumentError(`unknown format '${o.format}': expected table or json`);
      const lab = await Lab.open(nameOf(cmd));
      if (o.format === 'json') {
        process.stdout.write(JSON.stringify({ name: lab.name, subnet: lab.subnet, gateway: lab.gateway, bridge: lab.bridge, registry: lab.registry ?? null, hosts: lab.status() }, null, 2) + '\n');
      } else process.stdout.write(table(lab) + '\n');
    });

  sub(p, 'exec', "run a command in a host's network namespace, with DOCKER_HOST set to its shoald")
    .argument('<host>')
    .argument('<cmd...>', 'the command (after --)')
    .action(async (host: string, argv: string[], _o, cmd: Command) => {
      const lab = await Lab.open(nameOf(cmd));
      const { file, args, env } = lab.execCommand(host, argv);
      const child = spawn(file, args, { env, stdio: 'inherit' });
      // The terminal's signals reach the child too (same process group); only wait for it.
      for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => child.kill(sig));
      process.exitCode = await new Promise<number>((resolve, reject) => {
        child.on('error', reject);
        child.on('close', (code, sig) => resolve(code ?? 128 + (sig === 'SIGKILL' ? 9 : sig === 'SIGTERM' ? 15 : 2)));
      });
    });

  sub(p, 'kill', "SIGKILL the host's shoald (reg: its registry)")
    .argument('<host>')
    .action(async (host: string, _o, cmd: Command) => {
      const pid = await (await Lab.open(nameOf(cmd))).kill(host);
      say(`${host}: killed pid ${pid}`);
    });

  sub(p, 'start', "start the host's shoald (reg: its registry) again on the same roots")
    .argument('<host>')
    .action(async (host: string, _o, cmd: Command) => {
      const r = await (await Lab.open(nameOf(cmd))).start(host);
      say(`${host}: ${r.started ? 'started' : 'already running'}, pid ${r.pid}`);
    });

  sub(p, 'cut', "cut the host's link to the lab bridge: it reaches no other host")
    .argument('<host>')
    .action(async (host: string, _o, cmd: Command) => {
      await (await Lab.open(nameOf(cmd))).cut(host);
      say(`${host}: cut`);
    });

  sub(p, 'heal', "restore the host's link to the lab bridge")
    .argument('<host>')
    .action(async (host: string, _o, cmd: Command) => {
      await (await Lab.open(nameOf(cmd))).heal(host);
      say(`${host}: healed`);
    });

  sub(p, 'logs', "print the host's shoald (or registry) log")
    .argument('<host>')
    .option('-n, --tail <lines>', 'only the last lines', count)
    .action(async (host: string, o, cmd: Command) => {
      const text = await fs.readFile((await Lab.open(nameOf(cmd))).host(host).log, 'utf8');
      process.stdout.write(o.tail === undefined ? text : text.trimEnd().split('\n').slice(-o.tail).join('\n') + '\n');
    });

  sub(p, 'down', 'stop everything the lab runs and remove all it made (namespaces, links, mounts, cgroups, files)').action(async (_o, cmd: Command) => {
    const name = nameOf(cmd);
    await Lab.down(name);
    say(`lab ${name} is down`);
  });

  return p;
}

if (require.main === module) {
  program()
    .parseAsync(process.argv)
    .catch((e) => {
      say(errorMessage(e));
      process.exitCode = process.exitCode || 1;
    });
}
