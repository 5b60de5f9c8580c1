import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '../platform/logger';

export interface PartnerCallRecord {
  partnerId: string;
  operationName: string | null;
  code: string;
  durationMs: number;
  requestId: string;
  at: Date;
}

/** Rows per INSERT; a fuller buffer is written at once rather than on the next tick. */
const BATCH = 500;
/** While PostgreSQL is away, keep at most this many rows; older ones are dropped (and counted). */
const MAX_BUFFERED = 20_000;

/**
 * The partner audit trail, written in batches off the request path: a call never waits for
 * its audit row, and never shares a transaction with its own work (a rolled-back purchase is
 * still audited). Rows are flushed every `flushMs`, when BATCH accumulate, and on stop.
 */
export class PartnerAudit {
  private buffer: PartnerCallRecord[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly deps: { orm: MikroORM; log: Logger; flushMs: number; onDropped: (rows: number) => void }) {}

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.deps.flushMs);
    this.timer.unref();
  }

  record(call: PartnerCallRecord): void {
    this.buffer.push(call);
    if (this.buffer.length >= BATCH) void this.flush();
  }

  /** Writes everything recorded so far; resolves once it is in PostgreSQL (or given up). */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.writeAll());
    return this.flushing;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }

  private async writeAll(): Promise<void> {
    while (this.buffer.length) {
      const rows = this.buffer.splice(0, BATCH);
      try {
        await this.deps.orm.em.getConnection().execute(
          `insert into partner_call (partner_id, operation_name, code, duration_ms, request_id, at) values ${rows.map(() => '(?, ?, ?, ?, ?, ?)').join(', ')}`,
          rows.flatMap((r) => [r.partnerId, r.operationName, r.code, r.durationMs, r.requestId, r.at]),
        );
      } catch (error) {
        this.deps.log.warn({ err: error, rows: rows.length }, 'partner audit write failed; retrying on the next flush');
        this.buffer.unshift(...rows);
        const excess = this.buffer.length - MAX_BUFFERED;
        if (excess > 0) {
          this.buffer.splice(0, excess);
          this.deps.onDropped(excess);
        }
        return;
      }
    }
  }
}
