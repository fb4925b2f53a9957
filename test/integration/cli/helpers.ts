import { spawn } from 'node:child_process';
import { SHOAL } from '../../helpers/daemon';

export interface ShoalResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run the real shoal binary against `host`; resolves when it exits. */
export function shoal(host: string, args: string[], opts: { input?: string | Buffer; env?: Record<string, string>; cwd?: string } = {}): Promise<ShoalResult> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...(opts.env ?? {}) };
    const p = spawn(process.execPath, [SHOAL, '-H', host, ...args], { env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (b) => (stdout += b));
    p.stderr.on('data', (b) => (stderr += b));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
    p.stdin.on('error', () => undefined);
    if (opts.input !== undefined) p.stdin.end(opts.input);
    else p.stdin.end();
  });
}
