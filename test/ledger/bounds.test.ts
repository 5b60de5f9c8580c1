import { afterEach, describe, expect, it } from 'vitest';
import { startApp } from '../support/app';
import { createMember } from '../support/factories';
import { adjust, balanceOf, expectReconciled, newOrderId } from '../support/ledger';
import { tokens } from '../support/tokens';

const DAY = 86_400_000;
const EARN = `mutation($input: EarnPointsInput!) { earnPoints(input: $input) { points status member { balance } } }`;
const CANCEL = `mutation($id: ID!) { cancelRedemption(id: $id, reason: "客服取消") { status } }`;
const REDEEM = `mutation($input: RedeemInput!) { redeem(input: $input) { redemption { id status } } }`;

describe('ledger bounds: backdating, integer overflow, refunded points', async () => {
  const api = await startApp();
  const sql = (query: string, params: unknown[] = []) => api.app.orm.em.fork().execute(query, params);
  afterEach(async () => {
    await expectReconciled(api);
  });

  const earn = (input: Record<string, unknown>) => api.gql(EARN, { input: { orderId: newOrderId(), ...input } }, tokens.admin());
  const errorOf = (res: { errors?: { extensions?: Record<string, unknown> }[] }) => res.errors?.[0].extensions ?? null;
  const at = (ms: number) => new Date(api.clock.now().getTime() + ms).toISOString();

  describe('earnPoints occurredAt', () => {
    it('refuses a purchase more than 30 days old or more than 5 minutes ahead, naming occurredAt, and writes nothing', async () => {
      const m = await createMember(api);
      for (const occurredAt of [at(-30 * DAY - 1000), at(-365 * DAY), at(5 * 60_000 + 1000)]) {
        expect(errorOf(await earn({ memberId: m.id, amount: '10', occurredAt })), occurredAt).toMatchObject({ code: 'BAD_USER_INPUT', field: 'occurredAt' });
      }
      expect(await balanceOf(api, m.id)).toBe(0);
      for (const occurredAt of [at(-30 * DAY + 60_000), at(4 * 60_000)]) {
        expect(errorOf(await earn({ memberId: m.id, amount: '10', occurredAt })), occurredAt).toBeNull();
      }
      expect(await balanceOf(api, m.id)).toBe(20);
    });

    it('takes its window from PURCHASE_MAX_AGE_DAYS and PURCHASE_MAX_FUTURE_SECONDS', async () => {
      const other = await startApp({ env: { PURCHASE_MAX_AGE_DAYS: '7', PURCHASE_MAX_FUTURE_SECONDS: '0' } });
      try {
        const m = await createMember(other);
        const code = async (occurredAt: string) => errorOf(await other.gql(EARN, { input: { memberId: m.id, orderId: newOrderId(), amount: '10', occurredAt } }, tokens.admin()))?.field ?? 'OK';
        const from = (ms: number) => new Date(other.clock.now().getTime() + ms).toISOString();
        expect(await code(from(-8 * DAY))).toBe('occurredAt');
        expect(await code(from(-6 * DAY))).toBe('OK');
        expect(await code(from(1000))).toBe('occurredAt');
      } finally {
        await other.stop();
      }
    });
  });

  describe('integer overflow', () => {
    it('an amount whose points exceed the integer range is BAD_USER_INPUT naming amount, not INTERNAL_SERVER_ERROR', async () => {
      const category = `overflow-${newOrderId()}`;
      await api.ok(`mutation($input: EarningRuleInput!) { createEarningRule(input: $input) { id } }`, {
        input: { name: '百倍积分', categories: [category], multiplier: 100, bonusPoints: 0 },
      });
      const m = await createMember(api);
      const res = await earn({ memberId: m.id, amount: '99999999.99', category });
      expect(errorOf(res)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'amount' });
      expect(await balanceOf(api, m.id)).toBe(0);
      const [{ n }] = (await sql(`select count(*)::int as n from purchase where member_id = ?`, [m.id])) as { n: number }[];
      expect(n).toBe(0);
      // Within range it posts (held for review, as any purchase over the threshold).
      expect(errorOf(await earn({ memberId: m.id, amount: '200000.00', category }))).toBeNull();
    });

    it('a balance that would pass the integer range is refused too', async () => {
      const [{ threshold }] = (await sql(`select review_threshold_amount as threshold from program_settings where id = 1`)) as { threshold: string }[];
      await sql(`update program_settings set review_threshold_amount = 100000000 where id = 1`);
      try {
        const category = `overflow-${newOrderId()}`;
        await api.ok(`mutation($input: EarningRuleInput!) { createEarningRule(input: $input) { id } }`, {
          input: { name: '百倍积分', categories: [category], multiplier: 100, bonusPoints: 0 },
        });
        const m = await createMember(api);
        // 1e9 points at the base tier; the spend makes the member diamond (×2) for the next order.
        expect(errorOf(await earn({ memberId: m.id, amount: '10000000.00', category }))).toBeNull();
        expect(errorOf(await earn({ memberId: m.id, amount: '5000000.00', category }))).toBeNull();
        expect(await balanceOf(api, m.id)).toBe(2_000_000_000);
        expect(errorOf(await earn({ memberId: m.id, amount: '1000000.00', category }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'amount' });
        expect(await balanceOf(api, m.id)).toBe(2_000_000_000);
        // An admin's adjustment is held to the same range.
        expect(errorOf(await earn({ memberId: m.id, amount: '700000.00', category }))).toBeNull();
        expect(await balanceOf(api, m.id)).toBe(2_140_000_000);
        expect(errorOf(await adjust(api, m.id, 10_000_000))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'delta' });
        expect(await balanceOf(api, m.id)).toBe(2_140_000_000);
      } finally {
        await sql(`update program_settings set review_threshold_amount = ? where id = 1`, [threshold]);
      }
    });
  });

  describe('refunded points keep a bounded life', () => {
    async function redeemAll(token: string, points: number) {
      const item = (
        await api.ok(`mutation($input: CatalogItemInput!) { createCatalogItem(input: $input) { id } }`, {
          input: { sku: `B-${newOrderId()}`, name: '台灯', category: '家居', type: 'PHYSICAL', pointsPrice: points, stock: 10 },
        })
      ).createCatalogItem;
      const res = await api.gql(REDEEM, { input: { itemId: item.id, idempotencyKey: newOrderId(), shippingAddress: { line1: '上海市' } } }, token);
      expect(res.errors).toBeUndefined();
      return res.data.redeem.redemption.id as string;
    }
    const lotsOf = async (memberId: string) =>
      ((await sql(`select amount, remaining, expires_at from points_lot where member_id = ? order by id`, [memberId])) as { amount: number; remaining: number; expires_at: string }[]).map((l) => ({
        amount: l.amount,
        remaining: l.remaining,
        expiresAt: new Date(l.expires_at).toISOString(),
      }));

    it('points of a lapsed lot come back for the shorter of 30 days and their own validity, once: a redeem-and-cancel loop ends', async () => {
      const m = await createMember(api);
      await adjust(api, m.id, 500, { validDays: 10 });
      const first = await redeemAll(m.token, 500);
      api.clock.advance(11 * DAY);
      expect((await api.ok(CANCEL, { id: first })).cancelRedemption.status).toBe('CANCELLED');
      expect(await balanceOf(api, m.id)).toBe(500);
      // Their own validity was 10 days: 10 more, not 30.
      expect((await lotsOf(m.id)).at(-1)).toEqual({ amount: 500, remaining: 500, expiresAt: at(10 * DAY) });

      const second = await redeemAll(m.token, 500);
      api.clock.advance(11 * DAY);
      expect((await api.ok(CANCEL, { id: second })).cancelRedemption.status).toBe('CANCELLED');
      // Already revived once: they stay expired.
      expect(await balanceOf(api, m.id)).toBe(0);
      expect((await lotsOf(m.id)).length).toBe(2);
    });

    it('a long-lived lot that lapsed comes back for 30 days', async () => {
      const m = await createMember(api);
      await adjust(api, m.id, 300, { validDays: 365 });
      const id = await redeemAll(m.token, 300);
      api.clock.advance(366 * DAY);
      await api.ok(CANCEL, { id });
      expect(await balanceOf(api, m.id)).toBe(300);
      expect((await lotsOf(m.id)).at(-1)).toEqual({ amount: 300, remaining: 300, expiresAt: at(30 * DAY) });
    });
  });
});
