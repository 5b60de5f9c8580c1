import net from 'node:net';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/**
 * Graceful HTTP shutdown without connection resets. Node's own server.close() (and Apollo's drain
 * plugin) closes idle keep-alive sockets at once, so a client that sends its next request on one
 * just then sees ECONNRESET and cannot know whether it ran. Here instead:
 * 1. begin(): the listening socket closes (new connections are refused), and every response from
 *    now on — including those of requests already running — carries `Connection: close`;
 * 2. settle(): for `lingerMs` requests still arriving on open sockets are served (and close their
 *    socket), then idle sockets are ended with a FIN, then running requests are awaited until the
 *    deadline, after which whatever is left is destroyed.
 */
export class HttpDrain {
  private readonly sockets = new Map<Socket, number>();
  private readonly open = new Set<ServerResponse>();
  private draining = false;
  private listenerClosed: Promise<void> = Promise.resolve();

  constructor(private readonly server: Server) {
    server.on('connection', (socket: Socket) => {
      this.sockets.set(socket, 0);
      socket.once('close', () => this.sockets.delete(socket));
    });
    // An upgraded socket (graphql-ws) is the WebSocket server's to close, with its 1001 frame.
    server.on('upgrade', (_req: IncomingMessage, socket: Socket) => this.sockets.delete(socket));
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.sockets.set(req.socket, (this.sockets.get(req.socket) ?? 0) + 1);
      this.open.add(res);
      if (this.draining) res.shouldKeepAlive = false;
      res.once('close', () => {
        this.open.delete(res);
        this.sockets.set(req.socket, Math.max(0, (this.sockets.get(req.socket) ?? 1) - 1));
      });
    });
  }

  /** Requests not yet answered. */
  get inFlight(): number {
    return this.open.size;
  }

  begin(): void {
    if (this.draining) return;
    this.draining = true;
    // net.Server's close only: stop accepting, leave the open sockets alone (http.Server's would end
    // idle ones). After one more poll phase: connections the kernel already completed (in the listen
    // backlog) are accepted and served, not reset with the listening socket.
    this.listenerClosed = new Promise<void>((resolve) =>
      setImmediate(() =>
        setImmediate(() => {
          if (this.server.listening) net.Server.prototype.close.call(this.server);
          resolve();
        }),
      ),
    );
    for (const res of this.open) if (!res.headersSent) res.shouldKeepAlive = false;
  }

  /**
   * `deadline` is process time (Date.now() epoch ms), not the program's clock: it bounds how long
   * this process takes to exit after SIGTERM, against real timers, and a test that moves the
   * program clock must not move it.
   */
  async settle(options: { lingerMs: number; deadline: number }): Promise<{ destroyed: number }> {
    this.begin();
    await this.listenerClosed;
    await pause(Math.max(0, Math.min(options.lingerMs, options.deadline - Date.now())));
    const endIdle = () => {
      for (const [socket, requests] of this.sockets) if (requests === 0) socket.end();
    };
    endIdle();
    while (this.open.size > 0 && Date.now() < options.deadline) {
      await pause(Math.min(20, Math.max(1, options.deadline - Date.now())));
      endIdle();
    }
    // Past the deadline: requests still running are cut, so the process can exit in time.
    let destroyed = 0;
    for (const [socket, requests] of this.sockets) {
      if (requests > 0) destroyed += 1;
      socket.destroy();
    }
    return { destroyed };
  }
}
