import type { Router } from '../../shared/api';
import { frame } from '../../shared/api';
import { errorMessage, invalid } from '../../shared/errors';
import type { Duplex } from 'node:stream';
import { DetachScanner, parseDetachKeys, type AttachSession, type ContainerManager, type ExecConfig } from '../engine/containers';

/** Pause reading client input while this much is waiting for the container's stdin. */
const MAX_PENDING_INPUT = 1024 * 1024;

export interface ExecRouteDeps {
  containers: ContainerManager;
}

/**
 * Pump a hijacked connection and an attach session into each other: client bytes to the
 * process's stdin (a half-close ends stdin), output back (stdcopy-framed unless TTY).
 * On a TTY the detach keys end the session and leave the process running (not on plain
 * pipes, whose binary data could contain them by chance).
 */
export async function pumpSession(sock: Duplex, session: AttachSession, detachKeys?: number[]): Promise<void> {
  let paused = false;
  const scanner = session.tty && session.opts.stdin && detachKeys?.length ? new DetachScanner(detachKeys) : undefined;
  sock.on('data', (raw: Buffer) => {
    let b = raw;
    if (scanner) {
      const r = scanner.push(raw);
      b = r.pass;
      if (r.detached) {
        if (b.length) void session.write(b);
        session.close();
        if (!sock.destroyed) sock.end();
        return;
      }
    }
    void session.write(b).then(() => {
      if (paused && session.pendingInput < MAX_PENDING_INPUT / 2) {
        paused = false;
        sock.resume();
      }
    });
    if (!paused && session.pendingInput > MAX_PENDING_INPUT) {
      paused = true;
      sock.pause();
    }
  });
  sock.on('end', () => session.closeStdin());
  sock.on('close', () => session.close());
  sock.on('error', () => session.close());
  try {
    for await (const c of session.output()) {
      if (sock.destroyed) break;
      sock.write(session.tty ? c.data : frame(c.stream, c.data));
    }
  } finally {
    if (!sock.destroyed) sock.end();
  }
}

/** POST /containers/{id}/exec, POST /exec/{id}/start (hijacked), GET /exec/{id}/json, POST /exec/{id}/resize. */
export function registerExecRoutes(router: Router, deps: ExecRouteDeps): void {
  const cm = deps.containers;

  router.post('/containers/:id/exec', async (ctx) => {
    const body = await ctx.json<ExecConfig>();
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('invalid request body: expected an exec config object');
    if (body.DetachKeys) parseDetachKeys(body.DetachKeys);
    ctx.send(201, cm.execCreate(ctx.params.id, body));
  });

  router.post('/exec/:id/start', async (ctx) => {
    const body = await ctx.json<{ Detach?: boolean; Tty?: boolean; ConsoleSize?: [number, number] | null }>();
    if (typeof body !== 'object' || body === null) throw invalid('invalid request body: expected an object');
    cm.execExists(ctx.params.id);
    if (body.Detach) {
      await cm.execStart(ctx.params.id, { detach: true, tty: body.Tty, consoleSize: body.ConsoleSize });
      ctx.send(200);
      return;
    }
    const tty = body.Tty ?? (cm.execInspect(ctx.params.id).ProcessConfig as { tty: boolean }).tty;
    const sock = ctx.hijack(tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream');
    let session;
    try {
      session = await cm.execStart(ctx.params.id, { detach: false, tty: body.Tty, consoleSize: body.ConsoleSize });
    } catch (e) {
      // Hijacked already: the error goes into the stream, as dockerd writes it.
      const msg = Buffer.from(`${errorMessage(e)}\r\n`);
      sock.end(tty ? msg : frame(1, msg));
      return;
    }
    if (session) await pumpSession(sock, session, parseDetachKeys(String(cm.execInspect(ctx.params.id).DetachKeys ?? '') || undefined));
    else sock.end();
  });

  router.get('/exec/:id/json', (ctx) => {
    ctx.json200(cm.execInspect(ctx.params.id));
  });

  router.post('/exec/:id/resize', async (ctx) => {
    const h = ctx.query.int('h');
    const w = ctx.query.int('w');
    if (h === undefined || w === undefined || h < 0 || w < 0) throw invalid('resize needs h and w, as non-negative integers');
    await cm.execResize(ctx.params.id, h, w);
    ctx.send(200);
  });
}
