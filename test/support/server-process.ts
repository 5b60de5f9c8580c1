import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT } from './root';

export const SERVER_ENTRY = join(ROOT, 'dist', 'src', 'main.js');

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Resolves when the process ends, with its exit code or signal and when it ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  /** Every JSON log line the server wrote. */
  logs: Record<string, unknown>[];
}

/**
 * Starts the built server (`node dist/src/main.js`, what operators run) as a child process on
 * 127.0.0.1 and an ephemeral port; resolves once it logs that it listens. Fault tests need a real
 * process to signal or kill. CI builds before testing; a missing build fails loudly.
 */
export async function spawnServer(env: Record<string, string>, timeoutMs = 20_000): Promise<ServerProcess> {
  if (!existsSync(SERVER_ENTRY)) throw new Error(`${SERVER_ENTRY} is missing: run \`npm run build\` first`);
  const child = spawn(process.execPath, [SERVER_ENTRY], {
    cwd: ROOT,
    // Ten pooled connections (as test/support/app.ts), not the production default of twenty: two test
    // files run at once and share PostgreSQL's max_connections (100) with everything else. A scenario
    // that needs more says so in `env`.
    env: { ...process.env, NODE_ENV: 'test', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', DATABASE_POOL_MAX: '10', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not listen within ${timeoutMs} ms: ${stderr}`)), timeoutMs);
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (entry.msg === 'listening') {
          clearTimeout(timer);
          resolve(String(entry.url));
        }
      } catch {
        // Not a log line.
      }
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening: ${stderr}`));
    });
  });
  return { url: url.replace('localhost', '127.0.0.1'), child, exited, logs };
}
