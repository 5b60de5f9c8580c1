import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { untilReady } from './own-redis';

/**
 * A private Redis Cluster for one test file: three masters and one replica each, on free
 * loopback ports, started with redis-server and joined with `redis-cli --cluster create`. Nothing
 * is persisted; stop() kills every node this file started (by its pid) and removes the files.
 */
export interface LocalCluster {
  /** REDIS_CLUSTER_NODES for the app. */
  nodes: string;
  ports: number[];
  /** The port of the master serving this key's (or channel's) slot. */
  masterOf(key: string): Promise<number>;
  /** Kills one node as a crash would (SIGKILL). */
  crash(port: number): void;
  /** Resolves once every slot is served again, by a master that answers. */
  untilHealthy(timeoutMs?: number): Promise<void>;
  /** Sharded subscribers of a channel, summed over the masters. */
  shardSubscribers(channel: string): Promise<number>;
  stop(): Promise<void>;
}

/** A port free for the node and for its cluster bus (port + 10000). */
async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 25_000);
    const ok = await Promise.all(
      [port, port + 10_000].map(
        (p) =>
          new Promise<boolean>((resolve) => {
            const server = createServer()
              .once('error', () => resolve(false))
              .listen(p, '127.0.0.1', () => server.close(() => resolve(true)));
          }),
      ),
    );
    if (ok.every(Boolean)) return port;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startLocalCluster(): Promise<LocalCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'loyalty-cluster-'));
  const ports: number[] = [];
  while (ports.length < 6) {
    const port = await freePort();
    if (!ports.includes(port)) ports.push(port);
  }
  const processes = new Map<number, ChildProcess>();
  for (const port of ports) {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${port}.conf`,
        '--cluster-node-timeout',
        '1000',
        // A replica may always take over (the test crashes masters on purpose), however late its last sync.
        '--cluster-replica-validity-factor',
        '0',
        '--save',
        '',
        '--appendonly',
        'no',
        '--enable-debug-command',
        'local',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    processes.set(port, child);
  }
  // A worker that exits without stop() (a crash, a timeout) does not leave the nodes running.
  const killAll = () => {
    for (const child of processes.values()) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', killAll);
  const clients = new Map(ports.map((port) => [port, new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null })]));
  for (const c of clients.values()) c.on('error', () => {});
  // Woken by each node's own "Ready to accept connections" line, not by a fixed number of pings:
  // on a loaded machine six redis-servers starting at once took longer than the old ~2 s of polls.
  // The bound only turns a node that never comes up into a clear failure.
  await Promise.all(ports.map((port) => untilReady(processes.get(port)!, port, 30_000)));
  await Promise.all(ports.map((port) => clients.get(port)!.ping()));
  const created = spawnSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '1', '--cluster-yes'], { encoding: 'utf8' });
  if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);

  const alive = () => ports.filter((p) => processes.get(p)!.exitCode === null && processes.get(p)!.signalCode === null);
  const masters = async (): Promise<{ port: number; from: number; to: number }[]> => {
    const slots = (await clients.get(alive()[0])!.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
    return slots.map(([from, to, [, port]]) => ({ port: Number(port), from, to }));
  };

  const cluster: LocalCluster = {
    nodes: ports.map((p) => `127.0.0.1:${p}`).join(','),
    ports,
    async masterOf(key) {
      const slot = Number(await clients.get(alive()[0])!.call('CLUSTER', 'KEYSLOT', key));
      return (await masters()).find((m) => m.from <= slot && slot <= m.to)!.port;
    },
    crash(port) {
      processes.get(port)!.kill('SIGKILL');
    },
    async untilHealthy(timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      let last = '';
      for (;;) {
        try {
          const live = alive();
          const infos = await Promise.all(live.map((p) => clients.get(p)!.call('CLUSTER', 'INFO') as Promise<string>));
          const served = await masters();
          const covered = served.reduce((n, m) => n + (m.to - m.from + 1), 0);
          if (infos.every((i) => i.includes('cluster_state:ok')) && covered === 16384 && served.every((m) => live.includes(m.port))) return;
          last = JSON.stringify({ live, states: infos.map((i) => /cluster_state:(\w+)/.exec(i)?.[1]), served });
        } catch (error) {
          // A node is mid-failover; ask again.
          last = String(error);
        }
        if (Date.now() > deadline) throw new Error(`the cluster did not become healthy: ${last}`);
        await sleep(100);
      }
    },
    async shardSubscribers(channel) {
      let total = 0;
      for (const { port } of await masters()) {
        const [, n] = (await clients.get(port)!.call('PUBSUB', 'SHARDNUMSUB', channel)) as [string, number];
        total += Number(n);
      }
      return total;
    },
    async stop() {
      process.off('exit', killAll);
      for (const c of clients.values()) c.disconnect();
      await Promise.all(
        [...processes.values()].map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve();
              child.once('exit', () => resolve());
              child.kill('SIGKILL');
            }),
        ),
      );
      rmSync(dir, { recursive: true, force: true });
    },
  };
  // The first election after `--cluster create` is slower than a failover on a loaded machine.
  await cluster.untilHealthy(30_000);
  return cluster;
}
