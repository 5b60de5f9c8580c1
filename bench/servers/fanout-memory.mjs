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
