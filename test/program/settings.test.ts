import { afterEach, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../support/app';
import { createMember } from '../support/factories';
import { adjust, earn, expectReconciled } from '../support/ledger';
import { tokens } from '../support/tokens';
import { createItem, memberWith, redeem, redeemCode, redeemOk } from '../catalog/support';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const FIELDS = 'pointsPerCurrencyUnit validityDays reminderDays earnLimitPerHour reviewThresholdAmount redeemLimitPer30Min maxQuantityPerRedemption';
const DEFAULTS = {
  pointsPerCurrencyUnit: 1,
  validityDays: 365,
  reminderDays: [7, 3, 1],
  earnLimitPerHour: 10,
  reviewThresholdAmount: '10000.00',
  redeemLimitPer30Min: 5,
  maxQuantityPerRedemption: 10,
};
const UPDATE = `mutation($input: ProgramSettingsInput!) { updateProgramSettings(input: $input) { ${FIELDS} } }`;
const READ = `{ programSettings { ${FIELDS} } }`;

/**
 * The clock of this file only moves forward (rate limits look back in time), and every test
 * leaves the settings as it found them: the defaults.
 */
describe('program settings', async () => {
  const api = await startApp();
  let other: TestApp | null = null;

  const update = (input: Record<string, unknown>, token: string | null = tokens.admin()) => api.gql(UPDATE, { input }, token);
  const updateOk = async (input: Record<string, unknown>, on: TestApp = api) => (await on.ok(UPDATE, { input })).updateProgramSettings;
  const read = async (on: TestApp = api) => (await on.ok(READ)).programSettings;
  const audits = async () =>
    api.app.orm.em
      .fork()
      .execute<{ id: string; changed_by: string; changed_at: Date | string; changes: Record<string, { from: unknown; to: unknown }> }[]>(
        'select id, changed_by, changed_at, changes from program_settings_audit order by id',
      );
  const lotsOf = async (memberId: string) =>
    api.app.orm.em.fork().execute<{ amount: number; expires_at: Date | string | null }[]>('select amount, expires_at from points_lot where member_id = ? order by id', [memberId]);

  afterEach(async () => {
    // Back to the defaults (through the API, so a broken update shows up here too), and a fresh hour.
    const current = await read();
    if (JSON.stringify(current) !== JSON.stringify(DEFAULTS)) await updateOk(DEFAULTS);
    expect(await read()).toEqual(DEFAULTS);
    api.clock.advance(2 * HOUR);
    await expectReconciled(api);
  });

  it('starts from the contract defaults, and only admins may read or change them', async () => {
    expect(await read()).toEqual(DEFAULTS);
    const m = await createMember(api);
    for (const token of [tokens.member(m.id), tokens.partner()]) {
      expect(await api.code(READ, {}, token)).toBe('FORBIDDEN');
      expect(await api.code(UPDATE, { input: { validityDays: 30 } }, token)).toBe('FORBIDDEN');
    }
    expect((await api.gql(READ, {}, null)).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(await read()).toEqual(DEFAULTS);
  });

  it('refuses every invalid value with BAD_USER_INPUT naming the field, and changes nothing', async () => {
    const before = (await audits()).length;
    const cases: [Record<string, unknown>, string][] = [
      [{ pointsPerCurrencyUnit: 0 }, 'pointsPerCurrencyUnit'],
      [{ pointsPerCurrencyUnit: -1 }, 'pointsPerCurrencyUnit'],
      [{ pointsPerCurrencyUnit: 1000.5 }, 'pointsPerCurrencyUnit'],
      // Stored with 4 decimals: a rate that would round to 0 earns nothing (and a purchase would fail).
      [{ pointsPerCurrencyUnit: 0.00001 }, 'pointsPerCurrencyUnit'],
      [{ validityDays: -1 }, 'validityDays'],
      [{ validityDays: 36501 }, 'validityDays'],
      [{ reminderDays: [7, 7] }, 'reminderDays'],
      [{ reminderDays: [0] }, 'reminderDays'],
      [{ reminderDays: [7, -3] }, 'reminderDays'],
      [{ reminderDays: [366] }, 'reminderDays'],
      [{ reminderDays: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] }, 'reminderDays'],
      [{ earnLimitPerHour: 0 }, 'earnLimitPerHour'],
      [{ earnLimitPerHour: -5 }, 'earnLimitPerHour'],
      [{ reviewThresholdAmount: '0' }, 'reviewThresholdAmount'],
      [{ reviewThresholdAmount: '-10.00' }, 'reviewThresholdAmount'],
      [{ reviewThresholdAmount: '10.001' }, 'reviewThresholdAmount'],
      [{ redeemLimitPer30Min: 0 }, 'redeemLimitPer30Min'],
      [{ redeemLimitPer30Min: -1 }, 'redeemLimitPer30Min'],
      [{ maxQuantityPerRedemption: 0 }, 'maxQuantityPerRedemption'],
      [{ maxQuantityPerRedemption: -2 }, 'maxQuantityPerRedemption'],
      // One bad field spoils the whole patch: the good one is not applied either.
      [{ validityDays: 1095, earnLimitPerHour: 0 }, 'earnLimitPerHour'],
    ];
    for (const [input, field] of cases) {
      const res = await update(input);
      expect(res.errors?.[0].extensions, JSON.stringify(input)).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(res.errors?.[0].message, JSON.stringify(input)).toContain(field);
      expect(res.data ?? null).toBeNull();
    }
    expect(await read()).toEqual(DEFAULTS);
    expect(await audits()).toHaveLength(before);
  });

  it('accepts the edges: validity 0 and 36500, one reminder day, 365, up to ten days', async () => {
    expect(await updateOk({ validityDays: 0 })).toMatchObject({ validityDays: 0 });
    expect(await updateOk({ validityDays: 36500 })).toMatchObject({ validityDays: 36500 });
    expect(await updateOk({ reminderDays: [1] })).toMatchObject({ reminderDays: [1] });
    expect(await updateOk({ reminderDays: [365] })).toMatchObject({ reminderDays: [365] });
    // Stored (and returned) widest first, whatever order they came in.
    expect(await updateOk({ reminderDays: [1, 10, 2, 9, 3, 8, 4, 7, 5, 6] })).toMatchObject({ reminderDays: [10, 9, 8, 7, 6, 5, 4, 3, 2, 1] });
    expect(await updateOk({ pointsPerCurrencyUnit: 0.0001 })).toMatchObject({ pointsPerCurrencyUnit: 0.0001 });
    expect(await updateOk({ pointsPerCurrencyUnit: 1000 })).toMatchObject({ pointsPerCurrencyUnit: 1000 });
    expect(await updateOk({ reviewThresholdAmount: '0.01' })).toMatchObject({ reviewThresholdAmount: '0.01' });
  });

  it('applies a partial patch to its fields only; an empty patch changes nothing and writes no audit', async () => {
    const before = await audits();
    const patched = await updateOk({ earnLimitPerHour: 3 });
    expect(patched).toEqual({ ...DEFAULTS, earnLimitPerHour: 3 });
    const twice = await updateOk({ maxQuantityPerRedemption: 4, reviewThresholdAmount: '500.50' });
    expect(twice).toEqual({ ...DEFAULTS, earnLimitPerHour: 3, maxQuantityPerRedemption: 4, reviewThresholdAmount: '500.50' });
    // null is "leave it", as is leaving the field out.
    expect(await updateOk({ validityDays: null, reminderDays: null })).toEqual(twice);
    expect(await updateOk({})).toEqual(twice);
    // The same values again are no change either.
    expect(await updateOk({ earnLimitPerHour: 3, reminderDays: [1, 3, 7] })).toEqual(twice);
    const after = await audits();
    expect(after).toHaveLength(before.length + 2);
    expect(after.slice(before.length).map((a) => a.changes)).toEqual([
      { earnLimitPerHour: { from: 10, to: 3 } },
      { maxQuantityPerRedemption: { from: 10, to: 4 }, reviewThresholdAmount: { from: '10000.00', to: '500.50' } },
    ]);
    const [{ updated_by }] = await api.app.orm.em.fork().execute('select updated_by from program_settings');
    expect(updated_by).toBe('admin:admin-test');
  });

  it('audits who changed what from what to what, and when', async () => {
    const before = (await audits()).length;
    const at1 = api.clock.now();
    await api.ok(UPDATE, { input: { validityDays: 1095, reminderDays: [14, 7] } }, tokens.admin('alice'));
    api.clock.advance(60_000);
    const at2 = api.clock.now();
    await api.ok(UPDATE, { input: { pointsPerCurrencyUnit: 1.5, validityDays: 1095 } }, tokens.admin('bob'));
    const rows = (await audits()).slice(before);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ changed_by: 'admin:alice', changes: { validityDays: { from: 365, to: 1095 }, reminderDays: { from: [7, 3, 1], to: [14, 7] } } });
    expect(new Date(rows[0].changed_at).getTime()).toBe(at1.getTime());
    // Only what changed is recorded: validityDays was already 1095.
    expect(rows[1]).toMatchObject({ changed_by: 'admin:bob', changes: { pointsPerCurrencyUnit: { from: '1.0000', to: '1.5000' } } });
    expect(Object.keys(rows[1].changes)).toEqual(['pointsPerCurrencyUnit']);
    expect(new Date(rows[1].changed_at).getTime()).toBe(at2.getTime());
  });

  it('a second instance sees a change at once, with no restart', async () => {
    other ??= await startApp({ sharing: api });
    expect(await read(other)).toEqual(DEFAULTS);
    await updateOk({ pointsPerCurrencyUnit: 3, validityDays: 60 });
    expect(await read(other)).toMatchObject({ pointsPerCurrencyUnit: 3, validityDays: 60 });
    const m = await createMember(api);
    const earned = (await earn(other, m.id, '10.00')).data.earnPoints;
    expect(earned.points).toBe(30);
    expect(Date.parse(earned.entry.expiresAt) - Date.parse(earned.entry.createdAt)).toBe(60 * DAY);
    // And the other way round.
    await updateOk({ pointsPerCurrencyUnit: 2 }, other);
    expect((await earn(api, m.id, '10.00')).data.earnPoints.points).toBe(20);
  });

  it('concurrent patches of different fields on two instances both land, each audited once', async () => {
    other ??= await startApp({ sharing: api });
    const before = (await audits()).length;
    await Promise.all([updateOk({ earnLimitPerHour: 7 }), updateOk({ redeemLimitPer30Min: 9 }, other), updateOk({ maxQuantityPerRedemption: 3 }), updateOk({ validityDays: 2000 }, other)]);
    expect(await read()).toEqual({ ...DEFAULTS, earnLimitPerHour: 7, redeemLimitPer30Min: 9, maxQuantityPerRedemption: 3, validityDays: 2000 });
    const rows = (await audits()).slice(before);
    expect(rows.map((r) => Object.keys(r.changes)[0]).sort()).toEqual(['earnLimitPerHour', 'maxQuantityPerRedemption', 'redeemLimitPer30Min', 'validityDays']);
    expect(rows.every((r) => Object.keys(r.changes).length === 1)).toBe(true);
  });

  it('pointsPerCurrencyUnit applies from the next earning', async () => {
    const m = await createMember(api);
    expect((await earn(api, m.id, '99.50')).data.earnPoints.points).toBe(100); // ceil(99.5 × 1)
    await updateOk({ pointsPerCurrencyUnit: 2.5 });
    expect((await earn(api, m.id, '99.50')).data.earnPoints.points).toBe(249); // ceil(248.75)
    await updateOk({ pointsPerCurrencyUnit: 0.1 });
    expect((await earn(api, m.id, '99.50')).data.earnPoints.points).toBe(10); // ceil(9.95)
  });

  it('earnLimitPerHour applies from the next earning', async () => {
    const m = await createMember(api);
    await updateOk({ earnLimitPerHour: 2 });
    expect((await earn(api, m.id, '1.00')).data.earnPoints.status).toBe('POSTED');
    expect((await earn(api, m.id, '1.00')).data.earnPoints.status).toBe('POSTED');
    expect((await earn(api, m.id, '1.00')).errors?.[0].extensions?.code).toBe('RATE_LIMITED');
    await updateOk({ earnLimitPerHour: 3 });
    expect((await earn(api, m.id, '1.00')).data.earnPoints.status).toBe('POSTED');
    expect((await earn(api, m.id, '1.00')).errors?.[0].extensions?.code).toBe('RATE_LIMITED');
  });

  it('reviewThresholdAmount applies from the next earning', async () => {
    const m = await createMember(api);
    expect((await earn(api, m.id, '600.00')).data.earnPoints).toMatchObject({ status: 'POSTED', points: 600 });
    await updateOk({ reviewThresholdAmount: '500.00' });
    expect((await earn(api, m.id, '600.00')).data.earnPoints).toMatchObject({ status: 'HELD_FOR_REVIEW', points: 600 });
    // "Over" the threshold: exactly the threshold is not held.
    expect((await earn(api, m.id, '500.00')).data.earnPoints).toMatchObject({ status: 'POSTED' });
    expect((await earn(api, m.id, '500.01')).data.earnPoints).toMatchObject({ status: 'HELD_FOR_REVIEW' });
    expect((await api.ok(`query($id: ID!) { member(id: $id) { balance } }`, { id: m.id })).member.balance).toBe(1100);
  });

  it('redeemLimitPer30Min applies from the next redemption', async () => {
    const m = await memberWith(api, 1000, 0);
    const item = await createItem(api, { pointsPrice: 10, stock: 100 });
    await updateOk({ redeemLimitPer30Min: 1 });
    await redeemOk(api, m.token, { itemId: item.id });
    expect(await redeemCode(api, m.token, { itemId: item.id })).toBe('RATE_LIMITED');
    await updateOk({ redeemLimitPer30Min: 2 });
    await redeemOk(api, m.token, { itemId: item.id });
    expect(await redeemCode(api, m.token, { itemId: item.id })).toBe('RATE_LIMITED');
  });

  it('maxQuantityPerRedemption applies from the next redemption', async () => {
    const m = await memberWith(api, 1000, 0);
    const item = await createItem(api, { pointsPrice: 10, stock: 100 });
    await redeemOk(api, m.token, { itemId: item.id, quantity: 10 });
    expect(await redeemCode(api, m.token, { itemId: item.id, quantity: 11 })).toBe('LIMIT_EXCEEDED');
    await updateOk({ maxQuantityPerRedemption: 2 });
    expect(await redeemCode(api, m.token, { itemId: item.id, quantity: 3 })).toBe('LIMIT_EXCEEDED');
    const res = await redeem(api, m.token, { itemId: item.id, quantity: 2 });
    expect(res.errors).toBeUndefined();
    expect(res.data.redeem.remainingPoints).toBe(1000 - 100 - 20);
  });

  it('a validity change applies to new earnings only; old lots keep their expiry', async () => {
    const m = await createMember(api);
    const t0 = api.clock.now();
    const first = (await earn(api, m.id, '10.00')).data.earnPoints.entry;
    expect(Date.parse(first.expiresAt)).toBe(t0.getTime() + 365 * DAY);
    // Held under the old validity, approved under the new one: it keeps the validity it was earned with.
    const held = (await earn(api, m.id, '20000.00')).data.earnPoints;
    expect(held.status).toBe('HELD_FOR_REVIEW');

    await updateOk({ validityDays: 30 });
    api.clock.advance(HOUR);
    const t1 = api.clock.now();
    const second = (await earn(api, m.id, '10.00')).data.earnPoints.entry;
    expect(Date.parse(second.expiresAt)).toBe(t1.getTime() + 30 * DAY);
    const adjusted = (await adjust(api, m.id, 5)).data.adjustPoints;
    expect(Date.parse(adjusted.expiresAt)).toBe(t1.getTime() + 30 * DAY);
    const approved = (await api.ok(`mutation($id: ID!) { approveHeldEntry(entryId: $id) { status expiresAt } }`, { id: held.entry.id })).approveHeldEntry;
    expect(approved.status).toBe('POSTED');
    expect(Date.parse(approved.expiresAt)).toBe(t1.getTime() + 365 * DAY);

    const lots = await lotsOf(m.id);
    expect(lots.map((l) => [l.amount, new Date(l.expires_at!).getTime()])).toEqual([
      [10, t0.getTime() + 365 * DAY],
      [10, t1.getTime() + 30 * DAY],
      [5, t1.getTime() + 30 * DAY],
      [20000, t1.getTime() + 365 * DAY],
    ]);
    // Changing it back moves nothing either.
    await updateOk({ validityDays: 365 });
    expect(await lotsOf(m.id)).toEqual(lots);
  });

  it('validityDays 0: new points never expire, and the expiry job leaves them alone', async () => {
    const m = await createMember(api);
    const old = (await earn(api, m.id, '10.00')).data.earnPoints.entry;
    await updateOk({ validityDays: 0 });
    const forever = (await earn(api, m.id, '25.00')).data.earnPoints.entry;
    expect(forever.expiresAt).toBeNull();
    expect((await adjust(api, m.id, 7)).data.adjustPoints.expiresAt).toBeNull();
    const lots = await lotsOf(m.id);
    expect(lots.map((l) => l.expires_at === null)).toEqual([false, true, true]);
    expect(Date.parse(old.expiresAt)).toBeGreaterThan(api.clock.now().getTime());

    // Two years on, the old lot has expired and the others have not.
    await updateOk({ validityDays: 365 });
    api.clock.advance(2 * 365 * DAY);
    await api.app.jobs.runOnce();
    expect((await api.ok(`query($id: ID!) { member(id: $id) { balance } }`, { id: m.id })).member.balance).toBe(32);
    const warnings = await api.app.orm.em
      .fork()
      .execute<{ n: number }[]>(`select count(*)::int as n from expiry_warning w join points_lot l on l.id = w.lot_id where l.member_id = ? and l.expires_at is null`, [m.id]);
    expect(warnings[0].n).toBe(0);
  });
});
