import { promises as fs } from 'node:fs';
import type { Cli } from '../context';
import { ExitError } from '../errors';
import { StreamError } from '../format/progress';
import { list, type ShoalCommand } from '../program';
import { buildContext } from '../io/buildcontext';
import { parseExtraHost, parseUlimits } from '../opts/policy';
import { parseInteger, parseSize, parseSwap } from '../opts/values';
import { parseRef } from '../reference';

/** --build-arg KEY=VALUE; a bare KEY takes the caller's value, or null (the Dockerfile default). */
export function buildArgs(values: string[], lookup: (k: string) => string | undefined): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const v of values) {
    const i = v.indexOf('=');
    if (i === 0) throw new ExitError(1, `invalid argument "${v}" for "--build-arg" flag: invalid key-value pair`);
    if (i > 0) out[v.slice(0, i)] = v.slice(i + 1);
    else out[v] = lookup(v) ?? null;
  }
  return out;
}

export function defineBuild(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Build an image from a Dockerfile')
    .argument('<path>', 'context directory, or - for a tar archive or Dockerfile on STDIN')
    .option('--add-host <host:ip>', 'Add a custom host-to-IP mapping ("host:ip")', list)
    .option('--build-arg <KEY=VALUE>', 'Set build-time variables', list)
    .option('--cache-from <image>', 'Images to consider as cache sources', list)
    .option('--cgroup-parent <path>', 'Set the parent cgroup for the "RUN" instructions during build')
    .option('--cpu-period <int>', 'Limit the CPU CFS (Completely Fair Scheduler) period')
    .option('--cpu-quota <int>', 'Limit the CPU CFS (Completely Fair Scheduler) quota')
    .option('-c, --cpu-shares <int>', 'CPU shares (relative weight)')
    .option('--cpuset-cpus <cpus>', 'CPUs in which to allow execution (0-3, 0,1)')
    .option('--cpuset-mems <mems>', 'MEMs in which to allow execution (0-3, 0,1)')
    .option('-f, --file <file>', 'Name of the Dockerfile (Default is "PATH/Dockerfile")')
    .option('--force-rm', 'Always remove intermediate containers')
    .option('--iidfile <file>', 'Write the image ID to the file')
    .option('--label <KEY=VALUE>', 'Set metadata for an image', list)
    .option('-m, --memory <bytes>', 'Memory limit')
    .option('--memory-swap <bytes>', 'Swap limit equal to memory plus swap: -1 to enable unlimited swap')
    .option('--network <mode>', 'Set the networking mode for the RUN instructions during build')
    .option('--no-cache', 'Do not use cache when building the image')
    .option('--platform <platform>', 'Set platform if server is multi-platform capable')
    .option('--pull', 'Always attempt to pull a newer version of the image')
    .option('-q, --quiet', 'Suppress the build output and print image ID on success')
    .option('--rm', 'Remove intermediate containers after a successful build (default true)')
    .option('--no-rm', 'Keep intermediate containers after a build')
    .option('--shm-size <bytes>', 'Size of "/dev/shm"')
    .option('-t, --tag <name:tag>', 'Name and optionally a tag in the "name:tag" format', list)
    .option('--target <stage>', 'Set the target build stage to build.')
    .option('--ulimit <ulimit>', 'Ulimit options', list)
    .action(async (path: string) => {
      const o = cmd.opts();
      const tags: string[] = o.tag ?? [];
      for (const t of tags) {
        try {
          parseRef(t);
        } catch (e) {
          throw new ExitError(1, `invalid argument "${t}" for "-t, --tag" flag: ${(e as Error).message}`);
        }
      }
      const args = buildArgs(o.buildArg ?? [], (k) => cli.io.env[k]);
      const labels: Record<string, string> = {};
      for (const l of o.label ?? []) {
        const i = l.indexOf('=');
        labels[i < 0 ? l : l.slice(0, i)] = i < 0 ? '' : l.slice(i + 1);
      }
      const ulimits = parseUlimits(o.ulimit ?? []);
      const ctx = await buildContext(path, o.file, cli.io.cwd, cli.io.stdin);
      const query = {
        t: tags.length ? tags : undefined,
        dockerfile: ctx.dockerfile,
        buildargs: Object.keys(args).length ? JSON.stringify(args) : undefined,
        labels: Object.keys(labels).length ? JSON.stringify(labels) : undefined,
        nocache: o.cache === false ? 1 : undefined,
        target: o.target,
        q: o.quiet ? 1 : undefined,
        pull: o.pull ? 1 : undefined,
        rm: o.rm === false ? 0 : undefined,
        forcerm: o.forceRm ? 1 : undefined,
        networkmode: o.network,
        platform: o.platform,
        cachefrom: o.cacheFrom ? JSON.stringify(o.cacheFrom) : undefined,
        cgroupparent: o.cgroupParent,
        memory: o.memory === undefined ? undefined : parseSize(o.memory, '-m, --memory'),
        memswap: o.memorySwap === undefined ? undefined : parseSwap(o.memorySwap, '--memory-swap'),
        shmsize: o.shmSize === undefined ? undefined : parseSize(o.shmSize, '--shm-size'),
        cpushares: o.cpuShares === undefined ? undefined : parseInteger(o.cpuShares, '-c, --cpu-shares'),
        cpuquota: o.cpuQuota === undefined ? undefined : parseInteger(o.cpuQuota, '--cpu-quota'),
        cpuperiod: o.cpuPeriod === undefined ? undefined : parseInteger(o.cpuPeriod, '--cpu-period'),
        cpusetcpus: o.cpusetCpus,
        cpusetmems: o.cpusetMems,
        extrahosts: o.addHost ? (o.addHost as string[]).map(parseExtraHost) : undefined,
        ulimits: ulimits.length ? JSON.stringify(ulimits) : undefined,
        version: '1',
      };
      let imageId = '';
      // With -q the output is kept back and shown only if the build fails.
      const held: Array<string | Buffer> = [];
      const out = o.quiet ? { write: (s: string | Buffer) => held.push(s) } : cli.io.stdout;
      try {
        await cli.client.progress('POST', '/build', { query, body: ctx.body, headers: { 'Content-Type': 'application/x-tar', 'X-Registry-Config': 'e30=' } }, out, (aux) => {
          const id = (aux as { ID?: string } | null)?.ID;
          if (id) imageId = id;
        });
      } catch (e) {
        if (o.quiet) for (const s of held) cli.err(s);
        if (e instanceof StreamError) throw new ExitError(1, e.message);
        throw e;
      }
      if (o.quiet) cli.line(imageId);
      if (o.iidfile) {
        if (!imageId) throw new ExitError(1, 'Server did not provide an image ID. Cannot write --iidfile');
        await fs.writeFile(o.iidfile, imageId);
      }
    });
}
