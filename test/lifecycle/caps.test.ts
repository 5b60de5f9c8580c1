import { afterEach, describe, expect, it } from 'vitest';
import { startApp } from '../support/app';
import { createMember, type CreatedMember } from '../support/factories';
import { earn, expectReconciled } from '../support/ledger';
import { tokens } from '../support/tokens';

const DAY = 86_400_000;
const UPSERT = 'mutation($input: TaskInput!) { upsertTask(input: $input) { code } }';
const RECORD = 'mutation($id: ID!, $code: String!, $ref: String!) { recordTaskCompletion(memberId: $id, code: $code, reference: $ref) { pointsAwarded balance } }';
const SETTINGS = 'mutation($input: ProgramSettingsInput!) { updateProgramSettings(input: $input) { rewardDailyCap rewardMonthlyCap } }';

describe('earning caps', async () => {
  // 2026-03-02 10:00 in Shanghai.
  const api = await startApp({ now: '2026-03-02T02:00:00.000Z' });
  const db = () => api.app.orm.em.fork();
  afterEach(async () => {
    await expectReconciled(api);
  });
  const codes = Array.from({ length: 20 }, (_, i) => `cap-task-${i}`);
  let ref = 0;
  let lastRefs: string[] = [];

  /** 20 different daily tasks of 10 points, reported for one member at the same time. */
  const twentyAtOnce = async (m: CreatedMember) => {
    lastRefs = codes.map(() => `r-${++ref}`);
    const results = await Promise.all(codes.map((code, i) => api.ok(RECORD, { id: m.id, code, ref: lastRefs[i] }, tokens.admin())));
    return results.map((r) => r.recordTaskCompletion.pointsAwarded as number);
  };
  const balance = async (m: CreatedMember) => (await api.ok('{ me { balance } }', {}, m.token)).me.balance;

  it('are program settings, validated and audited', async () => {
    expect(await api.code(SETTINGS, { input: { rewardDailyCap: -1 } }, tokens.admin())).toBe('BAD_USER_INPUT');
    expect((await api.ok(SETTINGS, { input: { rewardDailyCap: 95, rewardMonthlyCap: 200 } }, tokens.admin())).updateProgramSettings).toEqual({ rewardDailyCap: 95, rewardMonthlyCap: 200 });
    const [audit] = await db().execute<{ changes: any }[]>('select changes from program_settings_audit order by id desc limit 1');
    expect(audit.changes).toEqual({ rewardDailyCap: { from: null, to: 95 }, rewardMonthlyCap: { from: null, to: 200 } });
    for (const code of codes) await api.ok(UPSERT, { input: { code, name: code, points: 10, frequency: 'DAILY' } }, tokens.admin());
  });

  it('hold under 20 concurrent rewards: the day’s cap is given exactly, the rest recorded as capped with a reason', async () => {
    const m = await createMember(api);
    const awarded = await twentyAtOnce(m);
    expect(awarded.reduce((a, b) => a + b, 0)).toBe(95);
    expect(awarded.filter((p) => p === 10)).toHaveLength(9);
    expect(awarded.filter((p) => p === 5)).toHaveLength(1);
    expect(awarded.filter((p) => p === 0)).toHaveLength(10);
    expect(await balance(m)).toBe(95);

    const hits = await db().execute<{ requested: number; granted: number; reason: string }[]>('select requested, granted, reason from reward_cap_hit where member_id = ? order by granted desc', [
      m.id,
    ]);
    expect(hits).toHaveLength(11);
    expect(hits[0]).toEqual({ requested: 10, granted: 5, reason: '每日奖励积分上限 95' });
    expect(hits.slice(1).every((h) => h.granted === 0 && h.reason === '每日奖励积分上限 95')).toBe(true);
    // A reward cut to nothing is in the member's history, not silently dropped.
    const rejected = (await api.ok('{ me { ledger(first: 50, filter: { types: [REWARD] }) { edges { node { status delta description } } } } }', {}, m.token)).me.ledger.edges
      .map((e: any) => e.node)
      .filter((e: any) => e.status === 'REJECTED');
    expect(rejected).toHaveLength(10);
    expect(rejected[0].description).toMatch(/已达每日奖励积分上限 95, 未发放/);

    // Purchases are not capped; a check-in over the cap is recorded with 0 points.
    expect((await earn(api, m.id, '100.00')).data.earnPoints.points).toBe(100);
    expect((await api.ok('mutation { checkIn { pointsAwarded } }', {}, m.token)).checkIn.pointsAwarded).toBe(0);
    // Repeating a capped report returns what it gave.
    const zero = awarded.indexOf(0);
    const again = await api.ok(RECORD, { id: m.id, code: codes[zero], ref: lastRefs[zero] }, tokens.admin());
    expect(again.recordTaskCompletion.pointsAwarded).toBe(0);

    // The next local day has a new daily room, inside the month's 200.
    api.clock.advance(DAY);
    expect((await twentyAtOnce(m)).reduce((a, b) => a + b, 0)).toBe(95);
    api.clock.advance(DAY);
    expect((await twentyAtOnce(m)).reduce((a, b) => a + b, 0)).toBe(10);
    const [{ reason }] = await db().execute<{ reason: string }[]>('select reason from reward_cap_hit where member_id = ? order by id desc limit 1', [m.id]);
    expect(reason).toBe('每月奖励积分上限 200');
  });

  it('programStats shows the points given away by source and what the caps held back', async () => {
    const stats = (await api.ok('{ programStats { rewardCaps { dailyCap monthlyCap capped30d pointsCapped30d } pointsIssuedBySource30d { source points } } }', {}, tokens.admin())).programStats;
    expect(stats.rewardCaps).toMatchObject({ dailyCap: 95, monthlyCap: 200 });
    expect(stats.rewardCaps.capped30d).toBeGreaterThanOrEqual(11);
    expect(stats.pointsIssuedBySource30d).toEqual(expect.arrayContaining([{ source: 'system:rewards', points: '200' }]));
  });

  it('0 removes a cap', async () => {
    expect((await api.ok(SETTINGS, { input: { rewardDailyCap: 0, rewardMonthlyCap: 0 } }, tokens.admin())).updateProgramSettings).toEqual({ rewardDailyCap: null, rewardMonthlyCap: null });
    const m = await createMember(api);
    expect((await twentyAtOnce(m)).reduce((a, b) => a + b, 0)).toBe(200);
  });
});
