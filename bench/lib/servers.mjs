// Servers under test run in child processes, so the load generator (this process) never
// shares an event loop with them.
import { fork } from 'node:child_process';

const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

/**
 * Forks `file`, which must send { type: 'ready', url } over IPC once it listens on 127.0.0.1,
 * and stop when it receives { type: 'stop' } (or when this process goes away).
 * `execArgv`: extra node flags for the child (e.g. --cpu-prof; the profile is written when it exits).
 */
export function startServer(ctx, name, file, env, { execArgv = [] } = {}) {
  const child = fork(file, [], { env, execArgv: [...process.execArgv, ...execArgv], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json' });
  let exited = false;
  const exit = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      exited = true;
      resolve({ code, signal });
    }),
  );

  const stop = async () => {
    if (exited) return;
    if (child.connected) child.send({ type: 'stop' });
    else child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exit;
    clearTimeout(timer);
  };
  ctx.onCleanup(`stop ${name}`, stop);
  ctx.onAbort(() => child.kill('SIGKILL'));

  // The child's own CPU time (user + system, µs), asked over IPC: CPU per request is far less
  // sensitive than req/s to whatever else the machine is running.
  const pendingUsage = [];
  const usage = () =>
    new Promise((resolve, reject) => {
      if (!child.connected) return reject(new Error(`${name} is not running`));
      pendingUsage.push(resolve);
      child.send({ type: 'usage' });
    });

  // SQL tracing (lib/sql-trace.mjs; the child must run with BENCH_SQL_TRACE=1): trace(true)
  // starts recording, trace(false) stops and resolves with the statements sent meanwhile.
  const pendingTrace = [];
  const trace = (on) =>
    new Promise((resolve, reject) => {
      if (!child.connected) return reject(new Error(`${name} is not running`));
      pendingTrace.push(resolve);
      child.send({ type: 'sql-trace', on });
    });

  // A CPU profile of a window of the child's life (node:inspector in the child): profile(true)
  // starts sampling, profile(false, file) stops and writes the .cpuprofile to `file`. Lets a suite
  // profile each measured run on its own, so two targets served by ONE process can be compared.
  const pendingProfile = [];
  const profile = (on, file) =>
    new Promise((resolve, reject) => {
      if (!child.connected) return reject(new Error(`${name} is not running`));
      pendingProfile.push(resolve);
      child.send({ type: 'profile', on, file });
    });

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
    child.on('message', (message) => {
      if (message?.type === 'usage') pendingUsage.shift()?.(message);
      if (message?.type === 'profile') pendingProfile.shift()?.(message);
      if (message?.type === 'sql-trace') pendingTrace.shift()?.(message.statements);
      if (message?.type !== 'ready') return;
      clearTimeout(timer);
      const url = new URL(message.url);
      if (url.hostname !== '127.0.0.1') {
        reject(new Error(`${name} listens on ${url.hostname}; the bench only targets 127.0.0.1`));
        return;
      }
      // `child`: for suites that exchange their own IPC messages with the server (e.g. fanout's memory probe).
      resolve({ name, url: url.origin, pid: child.pid, child, stop, usage, trace, profile });
    });
    exit.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited before it was ready (code ${code}, signal ${signal})`));
    });
  });
}

let inspectorSession = null;
/** The child's side of `profile(on, file)`: V8's sampling profiler through node:inspector. */
async function windowProfile(on, file) {
  const { Session } = await import('node:inspector');
  const { writeFileSync } = await import('node:fs');
  const post = (method, params) => new Promise((resolve, reject) => inspectorSession.post(method, params, (error, result) => (error ? reject(error) : resolve(result))));
  if (on) {
    if (!inspectorSession) {
      inspectorSession = new Session();
      inspectorSession.connect();
      await post('Profiler.enable');
      await post('Profiler.setSamplingInterval', { interval: 1000 });
    }
    await post('Profiler.start');
    return;
  }
  const { profile } = await post('Profiler.stop');
  writeFileSync(file, JSON.stringify(profile));
}

/** For the server side (a forked child): report readiness and stop on request or orphaning. */
export function serveUntilStopped(url, stopServer) {
  let stopping = null;
  const stop = () => {
    stopping ??= Promise.resolve()
      .then(stopServer)
      .then(
        () => process.exit(0),
        (error) => {
          process.stderr.write(`stop failed: ${error?.stack ?? error}\n`);
          process.exit(1);
        },
      );
    return stopping;
  };
  process.on('message', (message) => {
    if (message?.type === 'stop') stop();
    if (message?.type === 'usage') {
      const { user, system } = process.cpuUsage();
      process.send({ type: 'usage', cpuMicros: user + system, rss: process.memoryUsage.rss() });
    }
    if (message?.type === 'profile') {
      windowProfile(message.on, message.file).then(
        () => process.send({ type: 'profile', ok: true }),
        (error) => process.send({ type: 'profile', ok: false, error: String(error?.message ?? error) }),
      );
    }
  });
  // The parent died or closed the channel: never outlive it.
  process.on('disconnect', stop);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.send({ type: 'ready', url });
}
