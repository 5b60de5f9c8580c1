import net from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A Toxiproxy-like TCP proxy on 127.0.0.1 for fault tests: the app talks to PostgreSQL through
 * it, and the test cuts, stalls and restores the link — the shared server is never touched.
 * - cut(): every open connection is destroyed and new ones are refused (reset at once), as when
 *   PostgreSQL is down or restarting.
 * - stall(): connections stay open and new ones are accepted, but no byte moves either way, as on
 *   a network that silently drops packets; bytes are held and delivered on restore().
 * - restore(): back to normal.
 */
export class TcpProxy {
  private server: net.Server;
  private readonly links = new Set<{ client: net.Socket; upstream: net.Socket }>();
  private mode: 'up' | 'cut' | 'stalled' = 'up';
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {
    this.server = net.createServer((client) => this.accept(client));
  }

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const proxy = new TcpProxy(target);
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    proxy.port = (proxy.server.address() as AddressInfo).port;
    return proxy;
  }

  /** `url` (postgres://…) with its host and port pointed at this proxy. */
  via(url: string): string {
    const proxied = new URL(url);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(this.port);
    return proxied.toString();
  }

  get connections(): number {
    return this.links.size;
  }

  /** Chunks held by a stall: > 0 means someone is waiting on the other side right now. */
  get heldChunks(): number {
    return this.held.length;
  }

  private accept(client: net.Socket) {
    if (this.mode === 'cut') {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(this.target.port, this.target.host);
    const link = { client, upstream };
    this.links.add(link);
    const drop = () => {
      this.links.delete(link);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    // Forwarded by hand rather than piped: a held chunk waits in `held` until restore().
    const forward = (to: net.Socket) => (chunk: Buffer) => {
      if (this.mode === 'stalled') this.held.push({ to, chunk });
      else to.write(chunk);
    };
    client.on('data', forward(upstream));
    upstream.on('data', forward(client));
  }

  private held: { to: net.Socket; chunk: Buffer }[] = [];

  cut(): void {
    this.mode = 'cut';
    this.held = [];
    for (const { client, upstream } of this.links) {
      client.resetAndDestroy();
      upstream.destroy();
    }
    this.links.clear();
  }

  stall(): void {
    this.mode = 'stalled';
  }

  restore(): void {
    this.mode = 'up';
    for (const { to, chunk } of this.held.splice(0)) if (!to.destroyed) to.write(chunk);
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
