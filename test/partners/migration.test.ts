import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openOrm } from '../../src/platform/db/orm';
import { quoteIdent } from '../../src/platform/db/database';
import { databaseUrl, dropDatabase, withAdminClient } from '../support/db';

describe('Migration20261129100000Partners', () => {
  it("keeps every purchase, reversal and task completion, and gives each its partner from the ledger's source", async () => {
    const name = `loyalty_t_partners_mig_${process.pid}_${randomBytes(3).toString('hex')}`;
    await withAdminClient((c) => c.query(`CREATE DATABASE ${quoteIdent(name)}`));
    const orm = await openOrm(databaseUrl(name), 2);
    try {
      const migrator = orm.getMigrator();
      await migrator.up({ to: 'Migration20261122000700LedgerRateIndex' });
      const db = orm.em.getConnection();
      const member = randomUUID();
      const now = new Date('2026-03-01T00:00:00Z');
      await db.execute(
        `insert into member (id, nickname, mobile, total_spend, balance, lifetime_earned, invite_code, joined_at, updated_at)
        values (?, 'm', '13900000001', 0, 30, 30, 'ABCDEFGH', ?, ?)`,
        [member, now, now],
      );
      const entry = async (source: string, type: string, delta: number, key: string) =>
        (
          await db.execute<{ id: string }[]>(
            `insert into ledger_entry (member_id, type, status, delta, balance_after, reference, source, description, created_at, posted_at, idempotency_key)
          values (?, ?, 'POSTED', ?, 0, ?, ?, 'x', ?, ?, ?) returning id`,
            [member, type, delta, key, source, now, now, key],
          )
        )[0].id;
      const byPartner = await entry('partner:acme', 'PURCHASE', 10, 'A-1');
      const byAdmin = await entry('admin:ops', 'PURCHASE', 20, 'B-1');
      const reversal = await entry('partner:acme', 'REVERSAL', -5, 'A-1:full');
      for (const [order, id, points] of [
        ['A-1', byPartner, 10],
        ['B-1', byAdmin, 20],
      ] as const) {
        await db.execute(`insert into purchase (order_id, member_id, amount, occurred_at, entry_id, points, created_at) values (?, ?, 10, ?, ?, ?, ?)`, [order, member, now, id, points, now]);
      }
      await db.execute(`insert into purchase_reversal (order_id, refund_key, amount, entry_id, points_reversed, shortfall) values ('A-1', 'full', 5, ?, 5, 0)`, [reversal]);
      const task = randomUUID();
      await db.execute(
        `insert into task (id, code, name, description, points, frequency, self_claimable, active, created_at, updated_at) values (?, 'review', 'r', '', 5, 'DAILY', false, true, ?, ?)`,
        [task, now, now],
      );
      const reward = await entry('system:task', 'REWARD', 5, 'task-1');
      await db.execute(`insert into task_completion (member_id, task_id, period_key, reference, entry_id, completed_at) values (?, ?, '2026-03-01', 'REF-1', ?, ?)`, [member, task, reward, now]);

      await migrator.up();
      expect(await db.execute('select partner_id, order_id from purchase order by order_id')).toEqual([
        { partner_id: 'acme', order_id: 'A-1' },
        { partner_id: '', order_id: 'B-1' },
      ]);
      expect(await db.execute('select partner_id, order_id, refund_key from purchase_reversal')).toEqual([{ partner_id: 'acme', order_id: 'A-1', refund_key: 'full' }]);
      expect(await db.execute('select partner_id, reference from task_completion')).toEqual([{ partner_id: '', reference: 'REF-1' }]);
      // Reversal records are append-only again after the backfill.
      await expect(db.execute(`update purchase_reversal set amount = 1`)).rejects.toThrow(/append-only/);
    } finally {
      await orm.close();
      await dropDatabase(name);
    }
  });
});
