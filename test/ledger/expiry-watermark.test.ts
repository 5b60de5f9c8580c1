import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { ExpiryJob } from '../../src/jobs/expiry.job';
import { EXPIRY_WATERMARK_LAG_MS } from '../../src/ledger/ledger.writer';
import { createMember } from '../support/factories';
import { ENTRY_FIELDS, adjust, startLedgerApp } from '../support/ledger';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const LEDGER = `query($id: ID!) { member(id: $id) { balance ledger(first: 50) { edges { node { ${ENTRY_FIELDS} } } } } }`;

/**
 * The expiry job starts its walk at a persisted watermark (issue 14: the expiry index is no longer
 * partial on remaining > 0, so lot updates can be HOT). What a member sees must not change: every
 * due lot is still expired by the job, exactly once, whoever held the member when a run passed.
 */
describe('expiry watermark', async () => {
  const { api, db } = await startLedgerApp();

  const job = (options: { batchSize?: number; walkers?: number } = {}) => new ExpiryJob({ orm: api.app.orm, clock: api.clock, events: api.app.services.events, ...options });
  const watermark = async () => new Date((await db.query('select expired_before from expiry_watermark')).rows[0].expired_before);
  const expiryEntries = async (memberId: string) => (await api.ok(LEDGER, { id: memberId })).member.ledger.edges.map((e: any) => e.node).filter((e: any) => e.type === 'EXPIRY');
  async function grant(memberId: string, points: number, validDays: number) {
    const res = await adjust(api, memberId, points, { validDays });
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  }
  /** The invariant the walk relies on: no lot before the watermark has points left. */
  async function expectNoDueLotBeforeWatermark() {
    const { rows } = await db.query('select id, expires_at from points_lot where remaining > 0 and expires_at < (select expired_before from expiry_watermark)');
    expect(rows).toEqual([]);
  }

  it('a member held by another transaction during a run keeps the watermark before its lot, and the next run expires it', async () => {
    const [held, free] = [await createMember(api), await createMember(api)];
    await grant(held.id, 30, 1);
    await grant(free.id, 40, 1);
    const heldLot = (await db.query('select expires_at from points_lot where member_id = $1', [held.id])).rows[0].expires_at as Date;
    api.clock.advance(2 * DAY);

    // A money path of `held` in progress: the batch skips it (SKIP LOCKED).
    const lock = new pg.Client({ connectionString: api.databaseUrl });
    await lock.connect();
    try {
      await lock.query('begin');
      await lock.query('select id from member where id = $1 for update', [held.id]);
      const first = await job({ batchSize: 1 }).run();
      expect(first).toMatchObject({ members: 1, lots: 1, points: 40 });
      await lock.query('rollback');
    } finally {
      await lock.end();
    }
    expect(await expiryEntries(free.id)).toHaveLength(1);
    expect(await expiryEntries(held.id)).toEqual([]);
    // Without the skipped lot it would be now − lag, a day past that lot: held back to the lot itself.
    expect((await watermark()).getTime()).toBe(heldLot.getTime());
    await expectNoDueLotBeforeWatermark();

    const second = await job().run();
    expect(second).toMatchObject({ members: 1, lots: 1, points: 30 });
    expect((await expiryEntries(held.id)).map((e: any) => e.delta)).toEqual([-30]);
    expect((await watermark()).getTime()).toBe(api.clock.now().getTime() - EXPIRY_WATERMARK_LAG_MS);
    // Nothing expired twice, nothing left: a third run has nothing to do.
    expect(await job().run()).toEqual({ members: 0, lots: 0, points: 0, batches: 0 });

    // A watermark with microseconds (lowered by the trigger to a lot written by SQL) still moves on.
    await db.query(`update expiry_watermark set expired_before = expired_before - interval '1 microsecond'`);
    api.clock.advance(DAY);
    await job().run();
    expect((await watermark()).getTime()).toBe(api.clock.now().getTime() - EXPIRY_WATERMARK_LAG_MS);
  });

  it('never passes a due lot: runs racing held members, spends, and a clock moved backwards', async () => {
    const members = await Promise.all(Array.from({ length: 8 }, () => createMember(api)));
    for (let round = 0; round < 4; round++) {
      // Lots expiring in 1, 2 and 3 days for every member, then time moves 30 hours.
      await Promise.all(
        members.map(async (m, i) => {
          for (const days of [1, 2, 3]) await grant(m.id, 10 * days + i, days);
        }),
      );
      api.clock.advance(30 * HOUR);
      // Two members held during the run; two spend at the same time (their money path expires their own due lots).
      const lock = new pg.Client({ connectionString: api.databaseUrl });
      await lock.connect();
      try {
        await lock.query('begin');
        await lock.query('select id from member where id = any($1::uuid[]) order by id for update', [[members[round % 8].id, members[(round + 3) % 8].id]]);
        const [, , ...spends] = await Promise.all([
          job({ batchSize: 2, walkers: 2 }).run(),
          job({ batchSize: 3 }).run(),
          ...[members[(round + 1) % 8], members[(round + 5) % 8]].map((m) => adjust(api, m.id, -1)),
        ]);
        for (const spend of spends) expect(spend.errors, JSON.stringify(spend.errors)).toBeUndefined();
        await lock.query('commit');
      } finally {
        await lock.end();
      }
      await expectNoDueLotBeforeWatermark();
    }

    // An operator (or a test) moves the clock back three days and grants 1-day lots: they expire
    // before the watermark. The points_lot trigger lowers it, so the job still finds them.
    const before = await watermark();
    api.clock.advance(-3 * DAY);
    await grant(members[0].id, 5, 1);
    expect((await watermark()).getTime()).toBeLessThan(before.getTime());
    await expectNoDueLotBeforeWatermark();
    api.clock.advance(3 * DAY);
    await job().run();

    // Every due lot expired exactly once, by the job or a money path, and none is left.
    const twice = await db.query(`select a.lot_id from lot_allocation a join ledger_entry e on e.id = a.entry_id where e.type = 'EXPIRY' group by a.lot_id having count(*) > 1`);
    expect(twice.rows).toEqual([]);
    const left = await db.query('select id from points_lot where remaining > 0 and expires_at <= $1', [api.clock.now()]);
    expect(left.rows).toEqual([]);
    await expectNoDueLotBeforeWatermark();
    for (const m of members) expect((await expiryEntries(m.id)).length).toBeGreaterThan(0);
  });
});
