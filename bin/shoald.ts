#!/usr/bin/env node
import { Command } from 'commander';
import { compileConfig, loadListenerTls, readConfigFile, type DaemonOptions } from '../worker/daemon/config';
import { Daemon } from '../worker/daemon/daemon';
import { configureLogging } from '../shared/log';
import { errorMessage } from '../shared/errors';

const collect = (v: string, prev: string[] = []) => [...prev, v];

async function main(): Promise<void> {
  const program = new Command('shoald')
    .description('shoal daemon: the Docker Engine API on a unix socket, backed by crun')
    .option('--data-root <dir>', 'root of persistent state (default /var/lib/shoal)')
    .option('--exec-root <dir>', 'root of runtime state (default /run/shoal)')
    .option('-H, --host <addr>', 'listen on unix:///path or tcp://host:port (repeatable)', collect)
    .option('-l, --log-level <level>', 'trace|debug|info|warn|error|fatal')
    .option('--config-file <path>', 'daemon configuration file (JSON, dockerd key names)')
    .option('--default-runtime <name>', 'crun or runc')
    .option('-b, --bridge <name>', 'name of the default bridge device')
    .option('--bip <cidr>', 'gateway address and prefix of the default bridge')
    .option('--cgroup-parent <path>', 'parent cgroup of containers')
    .option('--node-name <name>', 'name of this node')
    .option('--insecure-registry <registry>', 'reach this registry (host[:port] or CIDR) over plain http (repeatable)', collect)
    .option('--tls', 'use TLS; implied by --tlsverify (a tcp:// host needs --tlsverify)')
    .option('--tlsverify', 'serve tcp:// hosts over TLS and require client certificates signed by --tlscacert')
    .option('--tlscacert <path>', 'trust client certificates signed only by this CA (default ~/.docker/ca.pem)')
    .option('--tlscert <path>', 'TLS certificate of the daemon (default ~/.docker/cert.pem)')
    .option('--tlskey <path>', 'TLS key of the daemon (default ~/.docker/key.pem)')
    .version(require('../../package.json').version)
    .showHelpAfterError();
  program.parse();
  const o = program.opts();
  const flags: DaemonOptions = {
    'data-root': o.dataRoot,
    'exec-root': o.execRoot,
    hosts: o.host,
    'log-level': o.logLevel,
    'default-runtime': o.defaultRuntime,
    bridge: o.bridge,
    bip: o.bip,
    'cgroup-parent': o.cgroupParent,
    'node-name': o.nodeName,
    'insecure-registries': o.insecureRegistry,
    tls: o.tls,
    tlsverify: o.tlsverify,
    tlscacert: o.tlscacert,
    tlscert: o.tlscert,
    tlskey: o.tlskey,
  };
  const file = o.configFile ? await readConfigFile(o.configFile) : {};
  // TLS files are read and checked here, before the daemon opens anything.
  const config = loadListenerTls(compileConfig(flags, file));
  configureLogging({ level: config.logLevel });
  const daemon = new Daemon(config);
  let stopping = false;
  const stop = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    await daemon.stop().catch(() => undefined);
    process.exit(sig === 'SIGTERM' || sig === 'SIGINT' ? 0 : 1);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  try {
    await daemon.start();
  } catch (e) {
    // A start that fails part-way (a port in use) undoes what it opened before reporting.
    await daemon.stop().catch(() => undefined);
    throw e;
  }
}

main().catch((e) => {
  process.stderr.write(`shoald: ${errorMessage(e)}\n`);
  process.exit(1);
});
