import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MikroORM } from '@mikro-orm/postgresql';
import { openOrm } from '../../src/platform/db/orm';
import { transact } from '../../src/platform/db/unit-of-work';
import { createDatabaseFromTemplate, dropDatabase } from '../support/db';

/**
 * transact(work): the one unit of work. What a use case queues in its outbox is published once,
 * after its transaction committed; a rollback publishes nothing; a retried attempt (a real
 * deadlock, broken by PostgreSQL) publishes only what the attempt that committed queued.
 */
describe('transact: the unit of work and its after-commit outbox', () => {
  const name = `loyalty_t_uow_${process.pid}_${randomBytes(3).toString('hex')}`;
  let orm: MikroORM;

  beforeAll(async () => {
    orm = await openOrm(await createDatabaseFromTemplate(name), 4);
    await orm.em.getConnection().execute('create table uow_probe (id text primary key)');
  });
  afterAll(async () => {
    await orm?.close();
    await dropDatabase(name);
  });

  /** Read on another connection, outside any transaction: only committed rows are visible. */
  const committed = async (id: string) => (await orm.em.fork().execute('select 1 from uow_probe where id = ?', [id])).length === 1;

  it('publishes the outbox in order, only once the transaction has committed, before transact returns', async () => {
    const seen: string[] = [];
    const result = await transact(orm.em.fork(), async (uow) => {
      await uow.tx.execute('insert into uow_probe (id) values (?)', ['a']);
      uow.afterCommit(async () => void seen.push(`first, committed: ${await committed('a')}`));
      uow.afterCommit(() => void seen.push('second'));
      // Still inside: the row is not visible to others and nothing was published yet.
      expect(await committed('a')).toBe(false);
      expect(seen).toEqual([]);
      return 'done';
    });
    expect(result).toBe('done');
    expect(seen).toEqual(['first, committed: true', 'second']);
  });

  it('publishes nothing when the work fails and the transaction rolls back', async () => {
    const seen: string[] = [];
    const refused = new Error('refused by a rule');
    await expect(
      transact(orm.em.fork(), async (uow) => {
        await uow.tx.execute('insert into uow_probe (id) values (?)', ['b']);
        uow.afterCommit(() => void seen.push('b'));
        throw refused;
      }),
    ).rejects.toBe(refused);
    expect(await committed('b')).toBe(false);
    expect(seen).toEqual([]);
  });

  it('an attempt lost to a deadlock is retried, and only the committed attempt publishes (once)', async () => {
    const attempts = { x: 0, y: 0 };
    const published: string[] = [];
    let arrive!: () => void;
    const bothLocked = new Promise<void>((resolve) => {
      let waiting = 2;
      arrive = () => void (--waiting === 0 && resolve());
    });
    // Two units take two advisory locks in opposite orders: PostgreSQL breaks the cycle with
    // 40P01 and the victim's whole unit runs again after its backoff.
    const unit = (name: 'x' | 'y', first: number, second: number) =>
      transact(orm.em.fork(), async (uow) => {
        const attempt = ++attempts[name];
        uow.afterCommit(() => void published.push(`${name}#${attempt}`));
        await uow.tx.execute(`set local deadlock_timeout = '100ms'`);
        await uow.tx.execute('select pg_advisory_xact_lock(?)', [first]);
        if (attempt === 1) {
          arrive();
          await bothLocked;
        }
        await uow.tx.execute('select pg_advisory_xact_lock(?)', [second]);
        await uow.tx.execute('insert into uow_probe (id) values (?)', [`${name}-${attempt}`]);
        return name;
      });
    expect(await Promise.all([unit('x', 1, 2), unit('y', 2, 1)])).toEqual(['x', 'y']);
    expect(attempts.x + attempts.y).toBe(3);
    const victim = attempts.x === 2 ? 'x' : 'y';
    // One publication per unit: the victim's first attempt queued one too, and it was dropped.
    expect(published.sort()).toEqual([`${victim === 'x' ? 'x#2' : 'x#1'}`, `${victim === 'y' ? 'y#2' : 'y#1'}`].sort());
    expect(await committed(`${victim}-1`)).toBe(false);
    expect(await committed(`${victim}-2`)).toBe(true);
  });

  it('a nested unit joins the outer outbox: published after the outer commit, dropped if its savepoint rolls back', async () => {
    const seen: string[] = [];
    await transact(orm.em.fork(), async (outer) => {
      await transact(outer.tx, async (inner) => {
        await inner.tx.execute('insert into uow_probe (id) values (?)', ['n1']);
        inner.afterCommit(() => void seen.push('inner'));
      });
      await expect(
        transact(outer.tx, async (failing) => {
          failing.afterCommit(() => void seen.push('rolled back'));
          throw new Error('inner refusal');
        }),
      ).rejects.toThrow('inner refusal');
      outer.afterCommit(() => void seen.push('outer'));
      // The inner unit "finished", but the outer transaction has not committed: nothing yet.
      expect(seen).toEqual([]);
      expect(await committed('n1')).toBe(false);
    });
    expect(seen).toEqual(['inner', 'outer']);
    expect(await committed('n1')).toBe(true);
  });

  it('a failing publication does not stop the others; the caller is told after all ran', async () => {
    const seen: string[] = [];
    await expect(
      transact(orm.em.fork(), async (uow) => {
        await uow.tx.execute('insert into uow_probe (id) values (?)', ['f']);
        uow.afterCommit(() => {
          throw new Error('redis away');
        });
        uow.afterCommit(() => void seen.push('still told'));
      }),
    ).rejects.toThrow('redis away');
    expect(seen).toEqual(['still told']);
    expect(await committed('f')).toBe(true);
  });
});
