// Memory probe for the fanout suite's server children: on { type: 'memory' } it runs a full GC
// (when node runs with --expose-gc) and answers process.memoryUsage(), so "memory per
// connection" compares like with like (retained memory, not garbage not yet collected).
export function answerMemoryProbes() {
  process.on('message', (message) => {
    if (message?.type !== 'memory') return;
    if (typeof global.gc === 'function') {
      global.gc();
      global.gc();
    }
    const m = process.memoryUsage();
    process.send({ type: 'memory', gc: typeof global.gc === 'function', rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers });
  });
}

// Window probe: each server notes when a board's coalescing window closed, under the key a client
// reads from the pushed board (the app: its #1 member; the baseline: the latest order id). The
// first window per key counts (a later window with the same #1 pushes nothing new). On
// { type: 'windows' } it answers [[key, closedAt]…] and forgets them; { type: 'windows-reset' } forgets.
export function answerWindowProbes() {
  let windows = new Map();
  process.on('message', (message) => {
    if (message?.type === 'windows-reset') windows = new Map();
    if (message?.type !== 'windows') return;
    process.send({ type: 'windows', windows: [...windows] });
    windows = new Map();
  });
  return {
    note(key, closedAt) {
      if (key !== null && key !== undefined && !windows.has(key)) windows.set(key, closedAt);
    },
  };
}
