// The image group (shoal image ...) and its shortcuts: images, rmi, tag, pull, push, load, save, import, history, build.
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type { Cli } from '../context';
import { EMPTY_AUTH, renderStream } from '../client';
import { ApiError } from '../../shared/client';
import { ExitError } from '../errors';
import { list, registerGroup, type CommandGroup, type ShoalCommand } from '../program';
import { HISTORY_HEADERS, HISTORY_TABLE, HISTORY_TABLE_RAW, IMAGE_HEADERS, IMAGES_TABLE, IMAGES_TABLE_DIGESTS, historyRows, imageRows, type HistoryItem, type ImageSummary } from '../format/images';
import { addFilter, filtersJson } from '../opts/filters';
import { familiarString, parseRef, refName } from '../reference';
import { inspectObjects, printRows, prune, seg } from './common';
import { pullImage } from './run';
import { defineBuild } from './build';

const imagePath = (n: string) => `/images/${seg(n)}`;

function defineLs(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('List images')
    .argument('[reference]')
    .option('-a, --all', 'Show all images (default hides intermediate images)')
    .option('--digests', 'Show digests')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', list)
    .option('--format <format>', "Format output using a custom template: 'table', 'table TEMPLATE', 'json' or 'TEMPLATE'")
    .option('--no-trunc', "Don't truncate output")
    .option('-q, --quiet', 'Only show image IDs')
    .action(async (reference: string | undefined) => {
      const o = cmd.opts();
      let filters = filtersJson(o.filter);
      if (reference) filters = addFilter(filters, 'reference', reference);
      const images = await cli.client.get<ImageSummary[]>('/images/json', { query: { all: o.all ? 1 : undefined, filters } });
      const rows = imageRows(images, { trunc: o.trunc !== false, digests: !!o.digests });
      printRows(cli, rows, IMAGE_HEADERS, { format: o.format, quiet: o.quiet, quietTemplate: '{{.ID}}', defaultTable: o.digests ? IMAGES_TABLE_DIGESTS : IMAGES_TABLE });
    });
}

function defineInspect(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Display detailed information on one or more images')
    .argument('<image...>')
    .option('-f, --format <format>', "Format output using a custom template: 'json' or 'TEMPLATE'")
    .action(async (names: string[]) => {
      await inspectObjects(cli, names, cmd.opts().format, (n) => cli.client.get(`${imagePath(n)}/json`));
    });
}

function defineRm(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Remove one or more images')
    .argument('<image...>')
    .option('-f, --force', 'Force removal of the image')
    .option('--no-prune', 'Do not delete untagged parents')
    .action(async (names: string[]) => {
      const o = cmd.opts();
      let failed = false;
      for (const n of names) {
        try {
          const r = await cli.client.delete<Array<{ Untagged?: string; Deleted?: string }>>(imagePath(n), { query: { force: o.force ? 1 : undefined, noprune: o.prune === false ? 1 : undefined } });
          for (const item of r ?? []) {
            if (item.Untagged) cli.line(`Untagged: ${item.Untagged}`);
            if (item.Deleted) cli.line(`Deleted: ${item.Deleted}`);
          }
        } catch (e) {
          if (!(e instanceof ApiError)) throw e;
          cli.err(`Error response from daemon: ${e.message}\n`);
          failed = true;
        }
      }
      if (failed) cli.exitCode = 1;
    });
}

function defineTag(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE')
    .argument('<source>')
    .argument('<target>')
    .action(async (source: string, target: string) => {
      let ref;
      try {
        ref = parseRef(target);
      } catch (e) {
        throw new ExitError(1, `Error parsing reference: "${target}" is not a valid repository/tag: ${(e as Error).message}`);
      }
      if (ref.digest) throw new ExitError(1, 'refusing to create a tag with a digest reference');
      await cli.client.post(`${imagePath(source)}/tag`, { query: { repo: refName(ref), tag: ref.tag ?? 'latest' } });
    });
}

function defineHistory(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Show the history of an image')
    .argument('<image>')
    .option('--format <format>', "Format output using a custom template: 'table', 'table TEMPLATE', 'json' or 'TEMPLATE'")
    .option('-H, --human', 'Print sizes and dates in human readable format (default true)')
    .option('--no-human', 'Print sizes and dates as raw values')
    .option('--no-trunc', "Don't truncate output")
    .option('-q, --quiet', 'Only show image IDs')
    .action(async (name: string) => {
      const o = cmd.opts();
      const items = await cli.client.get<HistoryItem[]>(`${imagePath(name)}/history`);
      const rows = historyRows(items, { trunc: o.trunc !== false, human: o.human !== false });
      printRows(cli, rows, HISTORY_HEADERS, { format: o.format, quiet: o.quiet, quietTemplate: '{{.ID}}', defaultTable: o.human === false ? HISTORY_TABLE_RAW : HISTORY_TABLE });
    });
}

function definePrune(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Remove unused images')
    .option('-a, --all', 'Remove all unused images, not just dangling ones')
    .option('--filter <filter>', 'Provide filter values (e.g. "until=<timestamp>")', list)
    .option('-f, --force', 'Do not prompt for confirmation')
    .action(async () => {
      const o = cmd.opts();
      await prune(cli, {
        force: o.force,
        warning: o.all ? 'WARNING! This will remove all images without at least one container associated to them.' : 'WARNING! This will remove all dangling images.',
        run: async () => {
          const filters = addFilter(filtersJson(o.filter, '--filter'), 'dangling', o.all ? 'false' : 'true');
          const r = await cli.client.post<{ ImagesDeleted?: Array<{ Untagged?: string; Deleted?: string }> | null; SpaceReclaimed?: number }>('/images/prune', { query: { filters } });
          const deleted = (r.ImagesDeleted ?? []).map((d) => (d.Untagged ? `untagged: ${d.Untagged}` : `deleted: ${d.Deleted}`));
          return { title: 'Deleted Images', deleted, space: r.SpaceReclaimed ?? 0 };
        },
      });
    });
}

function definePull(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Download an image from a registry')
    .argument('<name>')
    .option('-a, --all-tags', 'Download all tagged images in the repository')
    .option('--platform <platform>', 'Set platform if server is multi-platform capable')
    .option('-q, --quiet', 'Suppress verbose output')
    .option('--disable-content-trust', 'Skip image verification (default true)')
    .action(async (name: string) => {
      const o = cmd.opts();
      const ref = parseRef(name);
      if (o.allTags && (ref.tag || ref.digest)) throw new ExitError(1, 'tag can\'t be used with --all-tags/-a');
      let shown = ref;
      if (!ref.tag && !ref.digest && !o.allTags) {
        if (!o.quiet) cli.line('Using default tag: latest');
        shown = { ...ref, tag: 'latest' };
      }
      const sink = o.quiet ? { write: () => undefined } : cli.io.stdout;
      await pullImage(cli, name, sink, { platform: o.platform, allTags: !!o.allTags });
      cli.line(o.allTags ? refName(ref) : `${refName(shown)}${shown.tag ? `:${shown.tag}` : ''}${shown.digest ? `@${shown.digest}` : ''}`);
    });
}

function definePush(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Upload an image to a registry')
    .argument('<name>')
    .option('-a, --all-tags', 'Push all tags of an image to the repository')
    .option('--platform <platform>', 'Push a platform-specific manifest as a single-platform image to the registry')
    .option('-q, --quiet', 'Suppress verbose output')
    .option('--disable-content-trust', 'Skip image signing (default true)')
    .action(async (name: string) => {
      const o = cmd.opts();
      const ref = parseRef(name);
      if (o.allTags && (ref.tag || ref.digest)) throw new ExitError(1, 'tag can\'t be used with --all-tags/-a');
      let tag = ref.tag;
      if (!tag && !ref.digest && !o.allTags) {
        if (!o.quiet) cli.line('Using default tag: latest');
        tag = 'latest';
      }
      const repo = familiarString({ ...ref, tag: undefined, digest: undefined });
      const sink = o.quiet ? { write: () => undefined } : cli.io.stdout;
      await cli.client.progress('POST', `${imagePath(repo)}/push`, { query: { tag: ref.digest ?? tag, platform: o.platform }, headers: EMPTY_AUTH }, sink);
      if (o.quiet) cli.line(name);
    });
}

function defineLoad(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Load an image from a tar archive or STDIN')
    .option('-i, --input <file>', 'Read from tar archive file, instead of STDIN')
    .option('--platform <platform>', 'Load only the given platform variant')
    .option('-q, --quiet', 'Suppress the load output')
    .action(async () => {
      const o = cmd.opts();
      let body: NodeJS.ReadableStream;
      if (o.input) {
        await fs.access(o.input).catch((e: NodeJS.ErrnoException) => {
          throw new ExitError(1, `open ${o.input}: ${e.code === 'ENOENT' ? 'no such file or directory' : e.message}`);
        });
        body = createReadStream(o.input);
      } else {
        if (cli.io.stdin.isTTY) throw new ExitError(1, 'requested load from stdin, but stdin is empty');
        body = cli.io.stdin;
      }
      // On a non-terminal docker always asks for the quiet form: no progress bars, just the result lines.
      const quiet = o.quiet || !cli.io.stdout.isTTY;
      const res = await cli.client.checked('POST', '/images/load', { query: { quiet: quiet ? 1 : 0, platform: o.platform }, body, headers: { 'Content-Type': 'application/x-tar' } });
      await renderStream(res.stream, res.headers['content-type'] ?? '', cli.io.stdout);
    });
}

function defineSave(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Save one or more images to a tar archive (streamed to STDOUT by default)')
    .argument('<image...>')
    .option('-o, --output <file>', 'Write to a file, instead of STDOUT')
    .option('--platform <platform>', 'Save only the given platform variant')
    .action(async (names: string[]) => {
      const o = cmd.opts();
      if (!o.output && cli.io.stdout.isTTY) throw new ExitError(1, 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
      const stream = await cli.client.stream('GET', '/images/get', { query: { names, platform: o.platform } });
      if (!o.output) {
        await pipeline(stream, cli.io.stdout, { end: false });
        return;
      }
      // Write next to the target and rename, so a failed save leaves no partial file.
      const tmp = join(dirname(o.output), `.${basename(o.output)}.${randomBytes(4).toString('hex')}.tmp`);
      try {
        await pipeline(stream, createWriteStream(tmp, { mode: 0o600 }));
        await fs.rename(tmp, o.output);
      } catch (e) {
        await fs.rm(tmp, { force: true });
        if ((e as NodeJS.ErrnoException).code) throw new ExitError(1, `failed to save image: ${(e as Error).message}`);
        throw e;
      }
    });
}

function defineImport(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Import the contents from a tarball to create a filesystem image')
    .argument('<file>', 'file, URL or - for STDIN')
    .argument('[reference]')
    .option('-c, --change <instruction>', 'Apply Dockerfile instruction to the created image', list)
    .option('-m, --message <message>', 'Set commit message for imported image')
    .option('--platform <platform>', 'Set platform if server is multi-platform capable')
    .action(async (file: string, reference: string | undefined) => {
      const o = cmd.opts();
      if (reference) parseRef(reference);
      let fromSrc = file;
      let body: NodeJS.ReadableStream | undefined;
      if (file === '-') body = cli.io.stdin;
      else if (!/^https?:\/\//.test(file)) {
        await fs.access(file).catch((e: NodeJS.ErrnoException) => {
          throw new ExitError(1, `open ${file}: ${e.code === 'ENOENT' ? 'no such file or directory' : e.message}`);
        });
        body = createReadStream(file);
        fromSrc = '-';
      }
      await cli.client.progress('POST', '/images/create', { query: { fromSrc, repo: reference, message: o.message, changes: o.change, platform: o.platform }, body, headers: body ? { 'Content-Type': 'application/x-tar' } : {} }, cli.io.stdout);
    });
}

export const imageGroup: CommandGroup = {
  register(program, cli) {
    registerGroup(program, cli, 'image', 'Manage images', [
      { name: 'build', top: 'build', define: defineBuild },
      { name: 'history', top: 'history', define: defineHistory },
      { name: 'import', top: 'import', define: defineImport },
      { name: 'inspect', define: defineInspect },
      { name: 'load', top: 'load', define: defineLoad },
      { name: 'ls', aliases: ['list'], top: 'images', define: defineLs },
      { name: 'prune', define: definePrune },
      { name: 'pull', top: 'pull', define: definePull },
      { name: 'push', top: 'push', define: definePush },
      { name: 'rm', aliases: ['remove', 'rmi'], top: 'rmi', define: defineRm },
      { name: 'save', top: 'save', define: defineSave },
      { name: 'tag', top: 'tag', define: defineTag },
    ]);
  },
};
