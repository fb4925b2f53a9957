import { spawn } from 'node:child_process';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run a CLI (the stock docker client, or shoal) to completion; never throws on a non-zero exit. */
export function runCli(cmd: string, args: string[], opts: { input?: string | Buffer; env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...(opts.env ?? {}) }, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128, stdout, stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** The stock docker CLI against one daemon's socket, with a private config dir. */
export function docker(host: string, args: string[], opts: Parameters<typeof runCli>[2] = {}): Promise<CliResult> {
  return runCli('docker', ['-H', host, ...args], { ...opts, env: { DOCKER_CONFIG: '/tmp/shoal-test-docker-config', DOCKER_CLI_HINTS: 'false', ...(opts.env ?? {}) } });
}
