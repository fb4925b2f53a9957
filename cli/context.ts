import { CliClient } from './client';
import { DEFAULT_HOST, loadClientTls, resolveHost, resolveTls, type TlsChoice, type TlsFlags } from './host';

/** What a command sees of the process: streams, environment, working directory. */
export interface CliIO {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown; fd?: number };
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number; rows?: number; on(ev: 'resize', f: () => void): unknown };
  stderr: NodeJS.WritableStream;
  env: Record<string, string | undefined>;
  cwd: string;
}

export function processIO(): CliIO {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}

/** One invocation of the CLI: its I/O, the daemon it talks to, and its exit code. */
export class Cli {
  host = DEFAULT_HOST;
  exitCode = 0;
  /** The command being run ("run", "container ls"), for error hints and the exit-code rules. */
  command = '';
  runLike = false;
  /** TLS for a tcp:// host (the global flags and DOCKER_TLS_VERIFY / DOCKER_CERT_PATH). */
  tls?: TlsChoice;
  private client_?: CliClient;

  constructor(readonly io: CliIO) {}

  setHost(flag: string | undefined, tls: TlsFlags = {}): void {
    this.tls = resolveTls(tls, this.io.env);
    this.host = resolveHost(flag, this.io.env, this.tls !== undefined);
  }

  /** The daemon's client; TLS files are read here, so commands that never call the daemon need none. */
  get client(): CliClient {
    this.client_ ??= new CliClient(this.host, this.tls && this.host.startsWith('tcp://') ? loadClientTls(this.tls) : undefined);
    return this.client_;
  }

  out(s: string | Buffer): void {
    this.io.stdout.write(s);
  }

  err(s: string | Buffer): void {
    this.io.stderr.write(s);
  }

  /** Print a line on stdout. */
  line(s = ''): void {
    this.io.stdout.write(`${s}\n`);
  }

  close(): void {
    this.client_?.close();
  }
}
