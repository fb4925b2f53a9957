import pino from 'pino';

export type Logger = pino.Logger;

let root: Logger = pino({
  level: process.env.SHOAL_LOG_LEVEL ?? 'info',
  base: { pid: process.pid },
  timestamp: pino.stdTimeFunctions.isoTime,
});

/** Replace the root logger (the daemon does this once its flags are parsed). */
export function configureLogging(opts: { level?: string; destination?: pino.DestinationStream }): Logger {
  root = pino(
    { level: opts.level ?? root.level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime },
    opts.destination ?? pino.destination(2),
  );
  return root;
}

/** A child logger named after its component; every module logs through one. */
export function logger(component: string, bindings: Record<string, unknown> = {}): Logger {
  return root.child({ component, ...bindings });
}

export function silenceLogging(): void {
  root.level = 'silent';
}
