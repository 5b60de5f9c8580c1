import { afterEach, describe, expect, it } from 'vitest';
import { startApp, untilSubscribed } from '../support/app';
import { untilBoard } from '../support/boards';
import { createMember, uniqueMobile, type CreatedMember } from '../support/factories';
import { balanceOf, expectReconciled } from '../support/ledger';
import { tokens } from '../support/tokens';
import { collect } from '../support/ws';

const DAY = 86_400_000;
const REGISTER = 'mutation($input: RegisterMemberInput!) { registerMember(input: $input) { id balance inviteCode } }';
const REFERRALS = '{ referrals { invitee { id nickname } pointsAwarded createdAt } }';
const REWARDS = '{ me { ledger(first: 20, filter: { types: [REWARD] }) { edges { node { id type status delta balanceAfter reference source description expiresAt } } } } }';

describe('referrals', async () => {
  const api = await startApp({ now: '2026-03-02T02:00:00.000Z' });
  afterEach(async () => {
    await expectReconciled(api);
  });

  const referrals = async (m: CreatedMember) => (await api.ok(REFERRALS, {}, m.token)).referrals;
  const rewards = async (m: CreatedMember) => (await api.ok(REWARDS, {}, m.token)).me.ledger.edges.map((e: any) => e.node);
  const settings = (input: Record<string, number>) =>
    api.ok('mutation($input: ProgramSettingsInput!) { updateProgramSettings(input: $input) { referralInviterPoints referralInviteePoints } }', { input });
  const membersWithMobile = async (mobile: string) => {
    const [{ n }] = await api.app.orm.em.fork().execute<{ n: number }[]>('select count(*)::int as n from member where mobile = ?', [mobile]);
    return n;
  };

  it('rewards the inviter with 100 and the new member with 50 by default, as REWARD entries with lots', async () => {
    const inviter = await createMember(api, { nickname: '邀请人' });
    const invitee = await createMember(api, { nickname: '新朋友', inviteCode: inviter.inviteCode });
    expect(await balanceOf(api, inviter.id)).toBe(100);
    expect(await balanceOf(api, invitee.id)).toBe(50);
    const expiresAt = new Date(api.clock.now().getTime() + 365 * DAY).toISOString();
    expect(await rewards(inviter)).toEqual([
      expect.objectContaining({ type: 'REWARD', status: 'POSTED', delta: 100, balanceAfter: 100, reference: `referral:${invitee.id}`, source: 'system:referral', expiresAt }),
    ]);
    expect(await rewards(invitee)).toEqual([
      expect.objectContaining({ type: 'REWARD', status: 'POSTED', delta: 50, balanceAfter: 50, reference: `referral:${invitee.id}`, source: 'system:referral', expiresAt }),
    ]);
    const lots = await api.app.orm.em
      .fork()
      .execute<{ member_id: string; amount: number; remaining: number }[]>(
        `select l.member_id, l.amount, l.remaining from points_lot l join ledger_entry e on e.id = l.entry_id where e.reference = ? order by l.amount`,
        [`referral:${invitee.id}`],
      );
    expect(lots).toEqual([
      { member_id: invitee.id, amount: 50, remaining: 50 },
      { member_id: inviter.id, amount: 100, remaining: 100 },
    ]);
    // The registration's own payload shows the invitee's reward.
    const another = await api.ok(REGISTER, { input: { nickname: '又一个', mobile: uniqueMobile(), inviteCode: inviter.inviteCode } }, tokens.admin());
    expect(another.registerMember.balance).toBe(50);
    expect(await balanceOf(api, inviter.id)).toBe(200);
    // Without a code nobody is rewarded.
    const plain = await createMember(api);
    expect(await balanceOf(api, plain.id)).toBe(0);
  });

  it('pays the amounts of the program settings at the time of registration', async () => {
    const inviter = await createMember(api);
    try {
      expect((await settings({ referralInviterPoints: 30, referralInviteePoints: 20 })).updateProgramSettings).toEqual({ referralInviterPoints: 30, referralInviteePoints: 20 });
      const a = await createMember(api, { inviteCode: inviter.inviteCode });
      expect(await balanceOf(api, inviter.id)).toBe(30);
      expect(await balanceOf(api, a.id)).toBe(20);

      // 0: no reward, and no zero entry.
      await settings({ referralInviterPoints: 0, referralInviteePoints: 0 });
      api.clock.advance(60_000);
      const b = await createMember(api, { inviteCode: inviter.inviteCode });
      expect(await balanceOf(api, inviter.id)).toBe(30);
      expect(await balanceOf(api, b.id)).toBe(0);
      expect(await rewards(b)).toEqual([]);
      expect(await rewards(inviter)).toHaveLength(1);
      expect((await referrals(inviter)).map((r: any) => [r.invitee.id, r.pointsAwarded])).toEqual([
        [b.id, 0],
        [a.id, 30],
      ]);
      expect(await api.code('mutation { updateProgramSettings(input: { referralInviterPoints: -1 }) { referralInviterPoints } }')).toBe('BAD_USER_INPUT');
    } finally {
      await settings({ referralInviterPoints: 100, referralInviteePoints: 50 });
    }
  });

  it('an unknown invite code is BAD_USER_INPUT, and no member is created', async () => {
    const mobile = uniqueMobile();
    for (const inviteCode of ['NOPE2345', 'zzzzzzzz', 'not-a-code']) {
      const res = await api.gql(REGISTER, { input: { nickname: '无效邀请', mobile, externalId: 'ext-bad-invite', inviteCode } }, tokens.admin());
      expect(res.errors?.[0].extensions?.code, inviteCode).toBe('BAD_USER_INPUT');
      expect(res.data ?? null).toBeNull();
    }
    expect(await membersWithMobile(mobile)).toBe(0);
    // Nothing half-made blocks a retry: the mobile and externalId are still free.
    const ok = await api.ok(REGISTER, { input: { nickname: '无效邀请', mobile, externalId: 'ext-bad-invite' } }, tokens.admin());
    expect(ok.registerMember.balance).toBe(0);
  });

  it('accepts the invite code in any case, with surrounding spaces', async () => {
    const inviter = await createMember(api);
    expect(inviter.inviteCode).toBe(inviter.inviteCode.toUpperCase());
    const lower = await createMember(api, { inviteCode: inviter.inviteCode.toLowerCase() });
    const spaced = await createMember(api, { inviteCode: `  ${inviter.inviteCode.toLowerCase()} ` });
    expect(await balanceOf(api, lower.id)).toBe(50);
    expect(await balanceOf(api, spaced.id)).toBe(50);
    expect(await balanceOf(api, inviter.id)).toBe(200);
    expect((await referrals(inviter)).map((r: any) => r.invitee.id).sort()).toEqual([lower.id, spaced.id].sort());
  });

  it('referrals lists the member’s invitees, newest first, with the points each brought', async () => {
    const inviter = await createMember(api);
    const other = await createMember(api);
    expect(await referrals(inviter)).toEqual([]);
    const first = await createMember(api, { nickname: '甲', inviteCode: inviter.inviteCode });
    api.clock.advance(60_000);
    const second = await createMember(api, { nickname: '乙', inviteCode: inviter.inviteCode });
    await createMember(api, { nickname: '丙', inviteCode: other.inviteCode });
    expect(await referrals(inviter)).toEqual([
      { invitee: { id: second.id, nickname: '乙' }, pointsAwarded: 100, createdAt: api.clock.now().toISOString() },
      { invitee: { id: first.id, nickname: '甲' }, pointsAwarded: 100, createdAt: new Date(api.clock.now().getTime() - 60_000).toISOString() },
    ]);
    expect((await referrals(other)).map((r: any) => r.invitee.nickname)).toEqual(['丙']);
    // An invitee has invited nobody; admins and partners have no referrals of their own.
    expect(await referrals(first)).toEqual([]);
    expect(await api.code(REFERRALS, {}, tokens.admin())).toBe('FORBIDDEN');
    expect(await api.code(REFERRALS, {}, tokens.partner())).toBe('FORBIDDEN');
  });

  it('a frozen inviter gets nothing, but the new member does', async () => {
    const inviter = await createMember(api);
    await api.ok(`mutation($id: ID!) { freezeMember(memberId: $id, reason: "刷邀请") { status } }`, { id: inviter.id });
    const invitee = await createMember(api, { inviteCode: inviter.inviteCode });
    expect(await balanceOf(api, invitee.id)).toBe(50);
    expect(await balanceOf(api, inviter.id)).toBe(0);
    expect(await rewards(inviter)).toEqual([]);
    expect(await referrals(inviter)).toEqual([expect.objectContaining({ invitee: expect.objectContaining({ id: invitee.id }), pointsAwarded: 0 })]);
    // Unfrozen, the next invitation pays again.
    await api.ok(`mutation($id: ID!) { unfreezeMember(memberId: $id) { status } }`, { id: inviter.id });
    await createMember(api, { inviteCode: inviter.inviteCode });
    expect(await balanceOf(api, inviter.id)).toBe(100);
  });

  it('a registration that fails (mobile taken) rewards nobody', async () => {
    const inviter = await createMember(api);
    const existing = await createMember(api);
    expect(await api.code(REGISTER, { input: { nickname: '重复', mobile: existing.mobile, inviteCode: inviter.inviteCode } }, tokens.admin())).toBe('CONFLICT');
    expect(await balanceOf(api, inviter.id)).toBe(0);
    expect(await referrals(inviter)).toEqual([]);
  });

  it('concurrent registrations with one code reward the inviter once per invitee', async () => {
    const inviter = await createMember(api);
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => api.gql(REGISTER, { input: { nickname: `并发${i}`, mobile: uniqueMobile(), inviteCode: inviter.inviteCode } }, tokens.admin())),
    );
    expect(results.map((r) => r.errors)).toEqual(Array(6).fill(undefined));
    expect(results.map((r) => r.data.registerMember.balance)).toEqual(Array(6).fill(50));
    expect(await balanceOf(api, inviter.id)).toBe(600);
    expect(await referrals(inviter)).toHaveLength(6);
    expect(await rewards(inviter)).toHaveLength(6);
  });

  it('the rewards are published on balanceChanged and count on the leaderboard', async () => {
    const inviter = await createMember(api);
    const balance = collect(api.ws(inviter.token), 'subscription { balanceChanged { memberId delta balance entry { type reference } } }', {}, 'balanceChanged');
    await untilSubscribed(api, `BALANCE:${inviter.id}`);
    const invitee = await createMember(api, { inviteCode: inviter.inviteCode });
    await balance.nth(1);
    expect(balance.errors).toEqual([]);
    expect(balance.events).toEqual([{ memberId: inviter.id, delta: 100, balance: 100, entry: { type: 'REWARD', reference: `referral:${invitee.id}` } }]);

    // The boards are written after the posting commits: woken by the feed's push that shows the reward.
    await untilBoard(api, 'WEEKLY', (board) => board.entries.some((e) => e.member.id === inviter.id));
    expect((await api.ok('{ myRank(period: WEEKLY) { score } }', {}, inviter.token)).myRank).toEqual({ score: 100 });
    expect((await api.ok('{ myRank(period: ALL_TIME) { score } }', {}, invitee.token)).myRank).toEqual({ score: 50 });
  });
});
