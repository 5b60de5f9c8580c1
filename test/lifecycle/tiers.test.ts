import { afterEach, describe, expect, it } from 'vitest';
import { startApp, untilSubscribed } from '../support/app';
import { createMember, type CreatedMember } from '../support/factories';
import { earn, expectReconciled } from '../support/ledger';
import { tokens } from '../support/tokens';
import { collect } from '../support/ws';
import { addMonths } from '../../src/lifecycle/tier.rules';
import { daysUntil } from '../../src/ledger/ledger.rules';
import { TierEvaluationJob } from '../../src/jobs/tier-evaluation.job';

const DAY = 86_400_000;
const STATUS = 'tierStatus { tier { level } validUntil qualifyingSpend keepSpend inGrace graceUntil protectedUntil }';
const APPLY = 'mutation($reason: String!) { applyTierProtection(reason: $reason) { id status reason createdAt reviewedAt note } }';
const REVIEW = 'mutation($id: ID!, $approve: Boolean!, $note: String) { reviewTierProtection(id: $id, approve: $approve, note: $note) { id status reviewedAt note } }';
const REVERSE = 'mutation($input: ReverseEarnInput!) { reverseEarn(input: $input) { pointsReversed member { tier { level } } } }';

/**
 * The tier year through whole years on the injected clock. One database and one clock for the
 * file: the clock only moves forward, each test measures from where it starts.
 */
describe('tier lifecycle', async () => {
  const api = await startApp();
  const job = new TierEvaluationJob({ orm: api.app.orm, tiers: api.app.services.tiers, batchSize: 3 });
  afterEach(async () => {
    api.clock.advance(DAY);
    await expectReconciled(api);
  });

  const purchase = async (m: CreatedMember, amount: string) => {
    const res = await earn(api, m.id, amount);
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    return res.data.earnPoints as { points: number; member: { balance: number; tier: { level: number } } };
  };
  const status = async (m: CreatedMember) => (await api.ok(`{ me { ${STATUS} nextTier { spendNeeded } } }`, {}, m.token)).me;
  const tierNotes = async (m: CreatedMember) =>
    (await api.ok('{ notifications(first: 50) { edges { node { kind title body data } } } }', {}, m.token)).notifications.edges
      .map((e: any) => e.node)
      .filter((n: any) => n.kind === 'TIER_CHANGE')
      .reverse();

  it('reaching a tier holds it 12 months; 12-month spend of its minSpend keeps it another year', async () => {
    const t0 = api.clock.now();
    const m = await createMember(api);
    expect((await purchase(m, '1000.00')).member.tier.level).toBe(2);
    expect((await status(m)).tierStatus).toEqual({
      tier: { level: 2 },
      validUntil: addMonths(t0, 12).toISOString(),
      qualifyingSpend: '1000.00',
      keepSpend: '0.00',
      inGrace: false,
      graceUntil: null,
      protectedUntil: null,
    });
    api.clock.set(new Date(t0.getTime() + 90 * DAY));
    await purchase(m, '600.00');
    api.clock.set(new Date(t0.getTime() + 250 * DAY));
    await purchase(m, '500.00');
    // Nothing is due before the year ends.
    await job.run();
    expect((await status(m)).tierStatus.validUntil).toBe(addMonths(t0, 12).toISOString());

    api.clock.set(new Date(addMonths(t0, 12).getTime() + DAY));
    // The first 1000 is now older than 12 months: 600 + 500 still reach silver's 1000.
    expect((await status(m)).tierStatus).toMatchObject({ qualifyingSpend: '1100.00', keepSpend: '0.00' });
    await job.run();
    expect((await status(m)).tierStatus).toMatchObject({ tier: { level: 2 }, validUntil: addMonths(t0, 24).toISOString(), inGrace: false });
    const notes = await tierNotes(m);
    expect(notes.at(-1)).toMatchObject({ body: '恭喜!您已满足保级条件,等级有效期延长1年', data: { kept: 'SPEND_12_MONTHS' } });
    // Running again decides nothing more.
    await job.run();
    expect(await tierNotes(m)).toHaveLength(notes.length);
  });

  it('gold and up also keep by 90-day spend of half minSpend; silver does not', async () => {
    const t0 = api.clock.now();
    const gold = await createMember(api);
    const silver = await createMember(api);
    expect((await purchase(gold, '5000.00')).member.tier.level).toBe(3);
    expect((await purchase(silver, '1000.00')).member.tier.level).toBe(2);
    api.clock.set(addMonths(t0, 10));
    await purchase(gold, '2600.00');
    await purchase(silver, '600.00');
    api.clock.set(new Date(addMonths(t0, 12).getTime() + DAY));
    // The first purchases are now older than 12 months: gold has 2600 of 5000 in 12 months, but 2600 ≥ 2500 in 90 days.
    expect((await status(gold)).tierStatus).toMatchObject({ qualifyingSpend: '2600.00', keepSpend: '0.00' });
    expect((await status(silver)).tierStatus).toMatchObject({ qualifyingSpend: '600.00', keepSpend: '400.00' });
    await job.run();
    expect((await status(gold)).tierStatus).toMatchObject({ tier: { level: 3 }, validUntil: addMonths(t0, 24).toISOString(), inGrace: false });
    expect((await tierNotes(gold)).at(-1)).toMatchObject({ body: '恭喜!您已满足保级条件,等级有效期延长1年', data: { kept: 'SPEND_90_DAYS' } });
    const silverStatus = (await status(silver)).tierStatus;
    expect(silverStatus).toMatchObject({ tier: { level: 2 }, inGrace: true, graceUntil: addMonths(addMonths(t0, 12), 3).toISOString() });
    const days = daysUntil(api.clock.now(), new Date(silverStatus.graceUntil));
    expect((await tierNotes(silver)).at(-1)).toMatchObject({ title: '会员等级进入缓冲期', body: `还需消费¥400即可保级,当前等级有效期剩余${days}天` });
  });

  it('grace keeps the tier and its multiplier, reminds 30 days before its end, then lowers to what 12-month spend reaches', async () => {
    const t0 = api.clock.now();
    const m = await createMember(api);
    await purchase(m, '1000.00');
    const tierChanged = collect(api.ws(m.token), `subscription { tierChanged { tier { level } inGrace graceUntil validUntil keepSpend } }`, {}, 'tierChanged');
    await untilSubscribed(api, `TIER_CHANGED:${m.id}`);

    api.clock.set(new Date(addMonths(t0, 12).getTime() + DAY));
    await job.run();
    const graceUntil = addMonths(addMonths(t0, 12), 3);
    expect(await tierChanged.next()).toEqual({ tier: { level: 2 }, inGrace: true, graceUntil: graceUntil.toISOString(), validUntil: addMonths(t0, 12).toISOString(), keepSpend: '1000.00' });
    // Still silver in grace: 100 earns 100 × 1.2.
    expect(await purchase(m, '100.00')).toMatchObject({ points: 120, member: { tier: { level: 2 } } });

    api.clock.set(new Date(graceUntil.getTime() - 29 * DAY));
    await job.run();
    expect((await tierNotes(m)).at(-1)).toMatchObject({ title: '会员等级缓冲期即将结束', body: '还需消费¥900即可保级,当前等级有效期剩余29天' });
    const before = (await tierNotes(m)).length;
    await job.run();
    expect(await tierNotes(m)).toHaveLength(before);

    api.clock.set(new Date(graceUntil.getTime() + 3_600_000));
    await job.run();
    expect((await status(m)).tierStatus).toMatchObject({ tier: { level: 1 }, validUntil: null, inGrace: false, graceUntil: null, keepSpend: '0.00', qualifyingSpend: '100.00' });
    expect((await tierNotes(m)).at(-1)).toMatchObject({ title: '会员等级已调整', data: { fromLevel: 2, toLevel: 1 } });
    expect(await tierChanged.next()).toMatchObject({ tier: { level: 1 }, inGrace: false, validUntil: null });
    // Climbing back counts the last 12 months and new spend, not the spend that failed to keep silver.
    expect((await status(m)).nextTier).toEqual({ spendNeeded: '900.00' });
    api.clock.advance(3_600_000);
    expect((await purchase(m, '900.00')).member.tier.level).toBe(2);
    expect((await tierNotes(m)).at(-1)).toMatchObject({ title: '恭喜升级为银卡会员', data: { fromLevel: 1, toLevel: 2 } });
    tierChanged.dispose();
  });

  it('spending enough during grace keeps the tier at once', async () => {
    const t0 = api.clock.now();
    const m = await createMember(api);
    await purchase(m, '1000.00');
    api.clock.set(new Date(addMonths(t0, 12).getTime() + DAY));
    await job.run();
    expect((await status(m)).tierStatus.inGrace).toBe(true);
    api.clock.advance(3_600_000);
    await purchase(m, '1000.00');
    expect((await status(m)).tierStatus).toMatchObject({ tier: { level: 2 }, inGrace: false, graceUntil: null, validUntil: addMonths(api.clock.now(), 12).toISOString() });
    expect((await tierNotes(m)).at(-1)).toMatchObject({ body: '恭喜!您已满足保级条件,等级有效期延长1年' });
  });

  it('a refund during the year lowers qualifying spend, never the tier', async () => {
    const m = await createMember(api);
    const orderId = `REF-${m.id}`;
    const res = await earn(api, m.id, '1000.00', { orderId });
    expect(res.data.earnPoints.member.tier.level).toBe(2);
    const reversed = await api.ok(REVERSE, { input: { orderId, reason: '退货' } }, tokens.admin());
    expect(reversed.reverseEarn).toEqual({ pointsReversed: 1000, member: { tier: { level: 2 } } });
    expect((await status(m)).tierStatus).toMatchObject({ tier: { level: 2 }, qualifyingSpend: '0.00', keepSpend: '1000.00', inGrace: false });
    const list = await api.ok('query($f: MemberFilter) { members(filter: $f, first: 100) { edges { node { id } } } }', { f: { tierLevel: 2 } }, tokens.admin());
    expect(list.members.edges.map((e: any) => e.node.id)).toContain(m.id);
  });

  it('special protection: once per calendar year, reviewed by an admin, approval keeps the tier 12 more months', async () => {
    const base = await createMember(api);
    expect(await api.code(APPLY, { reason: '生育' }, base.token)).toBe('CONFLICT'); // the lowest tier needs none
    const m = await createMember(api);
    await purchase(m, '1000.00');
    const validUntil = (await status(m)).tierStatus.validUntil;
    expect(await api.code(APPLY, { reason: '  ' }, m.token)).toBe('BAD_USER_INPUT');
    const applied = (await api.ok(APPLY, { reason: '生育' }, m.token)).applyTierProtection;
    expect(applied).toMatchObject({ status: 'PENDING', reason: '生育', reviewedAt: null, note: null });
    expect(await api.code(APPLY, { reason: '疾病' }, m.token)).toBe('CONFLICT');

    // Private to the member and admins.
    const PROTECTIONS = 'query($id: ID!) { member(id: $id) { tierProtections { id status } } }';
    expect((await api.ok(PROTECTIONS, { id: m.id }, m.token)).member.tierProtections).toEqual([{ id: applied.id, status: 'PENDING' }]);
    expect(await api.code(PROTECTIONS, { id: m.id }, tokens.partner())).toBe('FORBIDDEN');
    expect(await api.code(PROTECTIONS, { id: m.id }, base.token)).toBe('FORBIDDEN');
    expect(await api.code(`query($id: ID!) { member(id: $id) { ${STATUS} } }`, { id: m.id }, tokens.partner())).toBe('FORBIDDEN');
    expect(await api.code(REVIEW, { id: applied.id, approve: true }, m.token)).toBe('FORBIDDEN');
    expect(await api.code(REVIEW, { id: '00000000-0000-4000-8000-000000000000', approve: true }, tokens.admin())).toBe('NOT_FOUND');

    api.clock.advance(3_600_000);
    const reviewed = (await api.ok(REVIEW, { id: applied.id, approve: true, note: '已核实' }, tokens.admin())).reviewTierProtection;
    expect(reviewed).toMatchObject({ status: 'APPROVED', note: '已核实', reviewedAt: api.clock.now().toISOString() });
    const extended = addMonths(new Date(validUntil), 12).toISOString();
    expect((await status(m)).tierStatus).toMatchObject({ tier: { level: 2 }, validUntil: extended, protectedUntil: extended, keepSpend: '0.00' });
    // The same decision again returns it; the opposite one is a conflict.
    expect((await api.ok(REVIEW, { id: applied.id, approve: true }, tokens.admin())).reviewTierProtection.status).toBe('APPROVED');
    expect(await api.code(REVIEW, { id: applied.id, approve: false }, tokens.admin())).toBe('CONFLICT');
    expect((await tierNotes(m)).map((n: any) => n.data.status).filter(Boolean)).toEqual(['PENDING', 'APPROVED']);

    // Rejected: nothing changes but the application.
    const other = await createMember(api);
    await purchase(other, '1000.00');
    const before = (await status(other)).tierStatus;
    const second = (await api.ok(APPLY, { reason: '出国' }, other.token)).applyTierProtection;
    expect((await api.ok(REVIEW, { id: second.id, approve: false, note: '不符合条件' }, tokens.admin())).reviewTierProtection.status).toBe('REJECTED');
    expect((await status(other)).tierStatus).toEqual(before);

    // A new calendar year allows a new application.
    const now = api.clock.now();
    api.clock.set(new Date(Date.UTC(now.getUTCFullYear() + 1, 0, 2)));
    expect((await api.ok(APPLY, { reason: '生育' }, m.token)).applyTierProtection.status).toBe('PENDING');
    expect((await api.ok(`{ me { tierProtections { status } } }`, {}, m.token)).me.tierProtections).toEqual([{ status: 'PENDING' }, { status: 'APPROVED' }]);
  });

  it('evaluates safely on several instances at once: each member is decided once', async () => {
    const t0 = api.clock.now();
    const members = await Promise.all(Array.from({ length: 7 }, () => createMember(api)));
    for (const m of members) await purchase(m, '1000.00');
    api.clock.set(new Date(addMonths(t0, 12).getTime() + DAY));
    const second = new TierEvaluationJob({ orm: api.app.orm, tiers: api.app.services.tiers, batchSize: 2 });
    await Promise.all([job.run(), second.run(), job.run()]);
    for (const m of members) {
      const graces = (await tierNotes(m)).filter((n: any) => n.title === '会员等级进入缓冲期');
      expect(graces, m.id).toHaveLength(1);
    }
  });

  // Last: it changes the tier set.
  it('pays a tier’s upgrade bonus once per member, even after lowering and climbing back', async () => {
    const TIER = 'mutation($input: TierInput!) { upsertTier(input: $input) { level upgradeBonus keepByRecentSpend } }';
    expect((await api.ok(TIER, { input: { level: 2, name: '银卡会员', minSpend: '1000', multiplier: 1.2, upgradeBonus: 200 } }, tokens.admin())).upsertTier).toEqual({
      level: 2,
      upgradeBonus: 200,
      keepByRecentSpend: false,
    });
    expect(await api.code(TIER, { input: { level: 2, name: '银卡会员', minSpend: '1000', multiplier: 1.2, upgradeBonus: -1 } }, tokens.admin())).toBe('BAD_USER_INPUT');
    const t0 = api.clock.now();
    const m = await createMember(api);
    expect(await purchase(m, '1000.00')).toMatchObject({ points: 1000, member: { balance: 1200, tier: { level: 2 } } });
    const rewards = async () =>
      (await api.ok(`{ me { ledger(first: 50, filter: { types: [REWARD] }) { edges { node { delta description } } } } }`, {}, m.token)).me.ledger.edges.map((e: any) => e.node);
    expect(await rewards()).toEqual([{ delta: 200, description: '升级奖励: 银卡会员' }]);

    api.clock.set(new Date(addMonths(t0, 12).getTime() + DAY));
    await job.run();
    api.clock.set(new Date(addMonths(t0, 15).getTime() + DAY));
    await job.run();
    expect((await status(m)).tierStatus.tier.level).toBe(1);
    expect((await purchase(m, '1000.00')).member.tier.level).toBe(2);
    expect(await rewards()).toHaveLength(1);
    await api.ok(TIER, { input: { level: 2, name: '银卡会员', minSpend: '1000', multiplier: 1.2, upgradeBonus: 0 } }, tokens.admin());
  });
});
