import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';

/**
 * A private redis-server (no persistence: it comes back empty, as after a failover to a fresh
 * node) on a free loopback port, for tests that stop and restart Redis under a running app.
 * The machine's shared Redis serves the other test files and is never stopped.
 */

/** Resolves when redis-server logs that it accepts connections; fails if it exits first or after `timeoutMs`. */
export function untilReady(child: ChildProcess, port: number, timeoutMs: number): Promise<void> {
  let output = '';
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`redis-server on ${port} did not start within ${timeoutMs} ms: ${output.slice(-500)}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) finish();
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => finish(new Error(`redis-server on ${port} exited (${code ?? signal}) before it was ready: ${output.slice(-500)}`));
    function finish(error?: Error) {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.stderr!.off('data', onData);
      child.off('exit', onExit);
      // Keep draining its output: a full pipe would block the node's logging, and with it the node.
      child.stdout!.resume();
      child.stderr!.resume();
      if (error) reject(error);
      else resolve();
    }
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', onExit);
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export class OwnRedis {
  private proc: ChildProcess | null = null;
  constructor(readonly port: number) {}

  get url() {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running() {
    return this.proc !== null;
  }

  async start(): Promise<void> {
    const proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    proc.once('exit', () => {
      if (this.proc === proc) this.proc = null;
    });
    // Woken by its own "Ready to accept connections" line, not by polling PING.
    await untilReady(proc, this.port, 10_000);
  }

  async kill(): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    this.proc = null;
    const exited = once(proc, 'exit');
    proc.kill('SIGKILL');
    await exited;
  }
}
