import { invalid, ShoalError } from '../../../shared/errors';

/** Docker's exit code for a process ended by signal N. */
export function signalExitCode(signal: number): number {
  return 128 + signal;
}

/** A wait(2) style outcome to Docker's exit code: the code, or 128+N for signal N. */
export function exitCodeOf(outcome: { code?: number | null; signal?: number | null }): number {
  if (outcome.signal) return signalExitCode(outcome.signal);
  return outcome.code ?? 255;
}

/** Parse conmon's exit file ("137"); -1 (conmon's "unknown") and garbage become 255. */
export function parseExitFile(text: string): number {
  const t = text.trim();
  const n = Number(t);
  if (t === '' || !Number.isInteger(n) || n < 0) return 255;
  return n;
}

export interface StartFailure {
  /** State.ExitCode after the failed start. */
  exitCode: number;
  /** The message for the API and State.Error. */
  message: string;
  /** 400 when the request was at fault (bad command), 500 otherwise. */
  error: ShoalError;
}

/**
 * Translate a runtime's create/exec failure into Docker's terms: a missing binary is 127
 * with `exec: "x": executable file not found in $PATH`, a non-executable one 126, both
 * reported as bad requests; anything else is a 500 with exit code 128.
 */
export function classifyStartFailure(runtimeMessage: string): StartFailure {
  const raw = runtimeMessage.trim();
  // runc wraps its message in logrus fields: time="..." level=error msg="..."
  const logrus = /msg="((?:[^"\\]|\\.)*)"/.exec(raw);
  const msg = (logrus ? logrus[1].replace(/\\"/g, '"').replace(/\\\\/g, '\\') : raw).replace(/\s+$/, '');
  let m = /executable file [`"']?([^`"']+)[`"']? not found in \$PATH/.exec(msg) ?? /exec: "([^"]+)": executable file not found in \$PATH/.exec(msg);
  if (m) {
    const message = `exec: "${m[1]}": executable file not found in $PATH`;
    return { exitCode: 127, message, error: invalid(`failed to create task for container: OCI runtime create failed: ${message}`) };
  }
  m = /(?:exec|open|stat)[^`"']*[`"']([^`"']+)[`"']?:? (?:.*?)?no such file or directory/i.exec(msg);
  if (m) {
    const message = `exec: "${m[1]}": stat ${m[1]}: no such file or directory`;
    return { exitCode: 127, message, error: invalid(`failed to create task for container: OCI runtime create failed: ${message}`) };
  }
  if (/permission denied/i.test(msg)) {
    const message = msg.replace(/^.*?(exec)/, '$1');
    return { exitCode: 126, message, error: invalid(`failed to create task for container: OCI runtime create failed: ${message}`) };
  }
  const message = `OCI runtime create failed: ${msg}`;
  return { exitCode: 128, message, error: new ShoalError('INTERNAL', `failed to create task for container: ${message}`) };
}
