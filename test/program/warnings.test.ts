import { describe, expect, it } from 'vitest';
import { startApp, untilSubscribed } from '../support/app';
import { collect, publishSentinel } from '../support/ws';
import { createMember } from '../support/factories';
import { adjust, earn, expectReconciled } from '../support/ledger';
import { tokens } from '../support/tokens';

const DAY = 86_400_000;

describe('expiry warnings', async () => {
  const api = await startApp();

  async function notifications(token: string) {
    const data = await api.ok(`{ notifications(first: 50) { edges { node { kind title body data } } } }`, {}, token);
    return data.notifications.edges.map((e: any) => e.node).filter((n: any) => n.kind === 'EXPIRY_WARNING');
  }

  it('warns a lot exactly once at each of 7, 3 and 1 days, in Chinese', async () => {
    const m = await createMember(api);
    await adjust(api, m.id, 300, { validDays: 10 });
    const runs: any[] = [];
    for (const day of [1, 2, 3, 4, 5, 6, 7, 8, 8.5, 9, 9.5]) {
      api.clock.set(new Date(Date.parse('2026-03-02T02:00:00.000Z') + day * DAY));
      runs.push(await api.app.jobs.runOnce());
    }
    const warnings = await notifications(m.token);
    expect(warnings.map((w: any) => w.data.threshold).sort()).toEqual([1, 3, 7]);
    expect(warnings.map((w: any) => w.body)).toContain('您有300积分将于3天后过期,快来兑换吧!');
    api.clock.set('2026-03-02T02:00:00.000Z');
    await expectReconciled(api);
  });

  it('two runners at once send no duplicates, and the member hears it live', async () => {
    const members = await Promise.all(Array.from({ length: 12 }, () => createMember(api)));
    for (const m of members) await adjust(api, m.id, 50, { validDays: 5 });
    const live = collect(api.ws(members[0].token), 'subscription { pointsExpiring { memberId points daysLeft message expiresAt } }', {}, 'pointsExpiring');
    await untilSubscribed(api, `EXPIRY_WARNING:${members[0].id}`);
    const other = await startApp({ sharing: api });
    await Promise.all([api.app.jobs.runOnce(), other.app.jobs.runOnce(), api.app.jobs.runOnce()]);
    for (const m of members) expect(await notifications(m.token)).toHaveLength(1);
    expect(await live.next()).toEqual({ memberId: members[0].id, points: 50, daysLeft: 5, message: '您有50积分将于5天后过期,快来兑换吧!', expiresAt: expect.any(String) });
    // No duplicate: a sentinel on each runner's publishing connection arrives after whatever that
    // runner published (one connection's commands are served in order).
    const sentinel = { memberId: members[0].id, points: 0, daysLeft: 0, message: 'sentinel', expiresAt: new Date(0).toISOString() };
    const channel = `${api.redisPrefix}EXPIRY_WARNING:${members[0].id}`;
    for (const publisher of [api.app.redis.publisher, other.app.redis.publisher]) await publishSentinel(publisher, channel, sentinel);
    expect([await live.next(), await live.next()]).toEqual([sentinel, sentinel]);
  });

  it('applies settings to new earnings only, audits them, and reports compliance', async () => {
    const m = await createMember(api);
    const before = (await earn(api, m.id, '10.00')).data.earnPoints.entry.expiresAt;
    const bad = await api.gql(`mutation { updateProgramSettings(input: { reminderDays: [7, 7] }) { reminderDays } }`, {}, tokens.admin());
    expect(bad.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'reminderDays' });
    const updated = await api.ok(`mutation { updateProgramSettings(input: { validityDays: 30, pointsPerCurrencyUnit: 2 }) { validityDays pointsPerCurrencyUnit reminderDays } }`);
    expect(updated.updateProgramSettings).toEqual({ validityDays: 30, pointsPerCurrencyUnit: 2, reminderDays: [7, 3, 1] });
    const after = (await earn(api, m.id, '10.00')).data.earnPoints;
    expect(after.points).toBe(20);
    expect(Date.parse(after.entry.expiresAt) - Date.parse(after.entry.createdAt)).toBe(30 * DAY);
    expect(Date.parse(before)).toBeGreaterThan(Date.parse(after.entry.expiresAt));
    const report = await api.ok(`{ complianceReport { compliant violations } }`);
    expect(report.complianceReport.compliant).toBe(false);
    expect(report.complianceReport.violations[0]).toMatch(/30 days/);
    const [audit] = await api.app.orm.em.fork().execute('select changed_by, changes from program_settings_audit order by id desc limit 1');
    expect(audit.changes).toMatchObject({ validityDays: { from: 365, to: 30 } });
    await api.ok(`mutation { updateProgramSettings(input: { validityDays: 365, pointsPerCurrencyUnit: 1 }) { validityDays } }`);
  });
});
