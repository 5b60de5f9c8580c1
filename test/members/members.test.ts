import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startApp } from '../support/app';
import { createMember, MEMBER_FIELDS, uniqueMobile } from '../support/factories';
import { tokens } from '../support/tokens';
import { partnerCall } from '../support/partner';
import { MemberByExternalIdDocument, RegisterMemberDocument } from '../../schema/generated/graphql';

const REGISTER = 'mutation($input: RegisterMemberInput!) { registerMember(input: $input) { id nickname mobile externalId inviteCode status } }';
const MEMBERS = `query($filter: MemberFilter, $first: Int, $after: String) {
  members(filter: $filter, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id nickname status mobile } } }
}`;
const INVITE_CODE = /^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{8}$/;

describe('members', async () => {
  const api = await startApp();
  const db = new pg.Client({ connectionString: api.databaseUrl });
  await db.connect();
  afterAll(() => db.end());
  // A member with this much spend behind it: the tier it reached is held (issue 17: the tier is stored).
  const setSpend = (id: string, spend: string) => db.query('update member set total_spend = $1, tier_level = (select max(level) from tier where min_spend <= $1::numeric) where id = $2', [spend, id]);
  const register = (input: Record<string, unknown>, token = tokens.admin()) => api.gql(REGISTER, { input }, token);
  const errorOf = async (input: Record<string, unknown>) => (await register(input)).errors?.[0];

  it('lists the four default tiers', async () => {
    const data = await api.ok('{ tiers { level name minSpend multiplier } }');
    expect(data.tiers).toEqual([
      { level: 1, name: '普通会员', minSpend: '0.00', multiplier: 1 },
      { level: 2, name: '银卡会员', minSpend: '1000.00', multiplier: 1.2 },
      { level: 3, name: '金卡会员', minSpend: '5000.00', multiplier: 1.5 },
      { level: 4, name: '钻石会员', minSpend: '20000.00', multiplier: 2 },
    ]);
    const benefits = await api.ok('{ tiers { benefits } }', {}, tokens.member('00000000-0000-4000-8000-000000000001'));
    expect(benefits.tiers[3].benefits).toMatchObject({ birthdayMultiplier: 3, freeShippingPerMonth: 2 });
  });

  it('registers a member who can read itself', async () => {
    const m = await createMember(api, { nickname: '小明' });
    const data = await api.ok(`{ me { ${MEMBER_FIELDS} joinedAt lastActiveAt } }`, {}, m.token);
    expect(data.me).toMatchObject({
      id: m.id,
      nickname: '小明',
      mobile: m.mobile,
      status: 'ACTIVE',
      balance: 0,
      lifetimeEarned: 0,
      totalSpend: '0.00',
      tier: { level: 1, name: '普通会员' },
      nextTier: { tier: { level: 2 }, spendNeeded: '1000.00', progress: 0 },
      joinedAt: '2026-03-02T02:00:00.000Z',
    });
  });

  describe('registration', () => {
    it('refuses a mobile already taken, in any spelling, with CONFLICT', async () => {
      const mobile = '13812345678';
      expect((await register({ mobile: '+86 138 1234 5678', nickname: 'first' })).data.registerMember.id).toBeTruthy();
      for (const spelling of [mobile, '+86 138 1234 5678', '+8613812345678', '8613812345678', '138-1234-5678', ' 138 1234 5678 ']) {
        const error = await errorOf({ mobile: spelling, nickname: 'second' });
        expect(error?.extensions, spelling).toMatchObject({ code: 'CONFLICT', field: 'mobile' });
      }
      const found = await api.ok(MEMBERS, { filter: { search: mobile } });
      expect(found.members.edges.map((e: any) => e.node)).toEqual([expect.objectContaining({ nickname: 'first', mobile })]);
    });

    it('refuses an externalId already taken with CONFLICT', async () => {
      await createMember(api, { externalId: 'crm-42' });
      const error = await errorOf({ mobile: uniqueMobile(), nickname: 'dup', externalId: 'crm-42' });
      expect(error?.extensions).toMatchObject({ code: 'CONFLICT', field: 'externalId' });
      expect(error?.message).not.toMatch(/constraint|unique|duplicate key/i);
      // Surrounding blanks are not a different id.
      expect((await errorOf({ mobile: uniqueMobile(), nickname: 'dup', externalId: '  crm-42 ' }))?.extensions?.code).toBe('CONFLICT');
    });

    it('refuses a malformed mobile or nickname with BAD_USER_INPUT', async () => {
      for (const mobile of ['', '12345', '1381234567', '138123456789', '23812345678', '12812345678', 'abcdefghijk', '+1 415 555 0100', '+86 238 1234 5678']) {
        const error = await errorOf({ mobile, nickname: 'ok' });
        expect(error?.extensions, mobile).toMatchObject({ code: 'BAD_USER_INPUT', field: 'mobile' });
      }
      for (const nickname of ['', '   ', 'x'.repeat(33), 'bell\u0007', 'new\nline']) {
        const error = await errorOf({ mobile: uniqueMobile(), nickname });
        expect(error?.extensions, JSON.stringify(nickname)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'nickname' });
      }
      expect((await errorOf({ mobile: uniqueMobile(), nickname: 'ok', externalId: 'e'.repeat(65) }))?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'externalId' });
      // Limits are in characters, not bytes: 32 Chinese characters fit.
      expect((await register({ mobile: uniqueMobile(), nickname: '中'.repeat(32) })).data.registerMember.nickname).toBe('中'.repeat(32));
    });

    it('gives every member a unique 8-character invite code', async () => {
      const codes = new Set<string>();
      for (let i = 0; i < 25; i++) {
        const { inviteCode } = await createMember(api);
        expect(inviteCode).toMatch(INVITE_CODE);
        codes.add(inviteCode);
      }
      expect(codes.size).toBe(25);
    });

    it('records who invited a member, by invite code in any case; an unknown code is BAD_USER_INPUT', async () => {
      const inviter = await createMember(api);
      const invitee = await createMember(api, { inviteCode: inviter.inviteCode.toLowerCase() });
      const row = await db.query('SELECT referred_by FROM member WHERE id = $1', [invitee.id]);
      expect(row.rows[0].referred_by).toBe(inviter.id);
      const error = await errorOf({ mobile: uniqueMobile(), nickname: 'x', inviteCode: 'ZZZZZZZZ' });
      expect(error?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'inviteCode' });
    });
  });

  describe('mobile masking', () => {
    it('masks the mobile for partners, and shows it to admins and the member itself', async () => {
      const m = await createMember(api, { mobile: '13812341234', externalId: 'mask-1' });
      const query = 'query($id: ID!) { member(id: $id) { mobile } }';
      // Partners reach members only through their reviewed operations, which see the mask.
      const registered = await partnerCall(api, RegisterMemberDocument, { input: { mobile: '13912349876', nickname: 'p' } });
      expect(registered.data?.registerMember.mobile).toBe('139****9876');
      expect((await api.ok(query, { id: m.id }, tokens.admin())).member.mobile).toBe('13812341234');
      expect((await api.ok(query, { id: m.id }, m.token)).member.mobile).toBe('13812341234');
      expect((await api.ok('{ me { mobile } }', {}, m.token)).me.mobile).toBe('13812341234');
      const listed = await api.ok(MEMBERS, { filter: { search: '13812341234' } });
      expect(listed.members.edges[0].node.mobile).toBe('13812341234');
    });

    it('masks for a viewer that is another member (where one may see it at all)', async () => {
      const m = await createMember(api);
      const other = await createMember(api);
      const res = await api.gql('query($id: ID!) { member(id: $id) { mobile } }', { id: m.id }, other.token);
      expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      expect(JSON.stringify(res)).not.toContain(m.mobile.slice(3, 7));
    });
  });

  describe('lookups', () => {
    it('finds a member by externalId (admins and partners); null when none', async () => {
      const m = await createMember(api, { nickname: 'ext', externalId: 'shop-7' });
      expect((await api.ok('{ memberByExternalId(externalId: "shop-7") { id nickname externalId } }', {}, tokens.admin())).memberByExternalId).toEqual({
        id: m.id,
        nickname: 'ext',
        externalId: 'shop-7',
      });
      const found = await partnerCall(api, MemberByExternalIdDocument, { externalId: 'shop-7' });
      expect(found.data?.memberByExternalId).toMatchObject({ id: m.id, nickname: 'ext', balance: 0, tier: { level: 1 } });
      expect((await api.ok('{ memberByExternalId(externalId: "shop-8") { id } }')).memberByExternalId).toBeNull();
      expect((await api.ok('{ memberByExternalId(externalId: "SHOP-7") { id } }')).memberByExternalId).toBeNull();
    });

    it('answers null for an id that names nobody, uuid or not', async () => {
      for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid', "1' or '1'='1"]) {
        expect((await api.ok('query($id: ID!) { member(id: $id) { id } }', { id })).member).toBeNull();
      }
    });
  });

  describe('members list', () => {
    it('filters by status, tier level and search', async () => {
      const alpha = await createMember(api, { nickname: 'Filter Alpha', externalId: 'flt-a' });
      const beta = await createMember(api, { nickname: 'filter beta' });
      const gamma = await createMember(api, { nickname: '50% off fan' });
      await setSpend(beta.id, '1500.00');
      await setSpend(gamma.id, '25000.00');
      await api.ok('mutation($id: ID!) { freezeMember(memberId: $id, reason: "fraud check") { id } }', { id: alpha.id });

      const ids = async (filter: Record<string, unknown>) => {
        const data = await api.ok(MEMBERS, { filter, first: 100 });
        expect(data.members.totalCount).toBe(data.members.edges.length);
        return data.members.edges.map((e: any) => e.node.id).sort();
      };
      expect(await ids({ search: 'filter' })).toEqual([alpha.id, beta.id].sort());
      expect(await ids({ search: '  FILTER  ' })).toEqual([alpha.id, beta.id].sort());
      expect(await ids({ search: 'flt-a' })).toEqual([alpha.id]);
      expect(await ids({ search: 'flt' })).toEqual([]); // externalId matches exactly
      expect(await ids({ search: beta.mobile })).toEqual([beta.id]);
      expect(await ids({ search: `+86 ${beta.mobile}` })).toEqual([beta.id]);
      expect(await ids({ search: beta.mobile.slice(0, 7) })).toEqual([]); // the full number only
      expect(await ids({ search: '50%' })).toEqual([gamma.id]);
      expect(await ids({ search: '%' })).toEqual([gamma.id]); // wildcards are literal
      expect(await ids({ search: '_' })).toEqual([]);
      expect(await ids({ status: 'FROZEN' })).toEqual([alpha.id]);
      expect(await ids({ status: 'ACTIVE', search: 'filter' })).toEqual([beta.id]);
      expect(await ids({ tierLevel: 2 })).toEqual([beta.id]);
      expect(await ids({ tierLevel: 4 })).toEqual([gamma.id]);
      expect(await ids({ tierLevel: 3 })).toEqual([]);
      expect(await ids({ tierLevel: 1, search: 'filter' })).toEqual([alpha.id]);
      expect(await ids({ tierLevel: 9 })).toEqual([]);
    });

    it('walks every page once, newest first, with hasNextPage false at the end', async () => {
      const created: string[] = [];
      for (let i = 0; i < 23; i++) {
        if (i % 5 === 0) api.clock.advance(60_000); // some share a join instant, some do not
        created.push((await createMember(api, { nickname: `pager ${i}` })).id);
      }
      const seen: string[] = [];
      let after: string | null = null;
      let pages = 0;
      for (;;) {
        const data: any = await api.ok(MEMBERS, { filter: { search: 'pager' }, first: 7, after });
        pages += 1;
        expect(data.members.totalCount).toBe(23);
        seen.push(...data.members.edges.map((e: any) => e.node.id));
        expect(data.members.pageInfo.endCursor).toBe(data.members.edges.at(-1)?.cursor ?? null);
        if (!data.members.pageInfo.hasNextPage) break;
        expect(data.members.edges).toHaveLength(7);
        after = data.members.pageInfo.endCursor;
      }
      expect(pages).toBe(4);
      expect(new Set(seen).size).toBe(23);
      expect([...seen].sort()).toEqual([...created].sort());
      // Newest first: the last member registered (latest join instant) comes first, the first one last.
      expect(seen[0]).not.toBe(created[0]);
      expect(created.slice(20)).toContain(seen[0]);
      expect(created.slice(0, 5)).toContain(seen.at(-1));
    });

    it('clamps first to 100 and refuses a negative first', async () => {
      await db.query(`
        INSERT INTO member (id, nickname, mobile, invite_code, joined_at, updated_at)
        SELECT gen_random_uuid(), 'bulk ' || n, '150' || lpad(n::text, 8, '0'), 'BULK' || lpad(n::text, 4, '0'), now() - n * interval '1 minute', now()
        FROM generate_series(1, 105) AS n`);
      const page = await api.ok(MEMBERS, { filter: { search: 'bulk' }, first: 1000 });
      expect(page.members.totalCount).toBe(105);
      expect(page.members.edges).toHaveLength(100);
      expect(page.members.pageInfo.hasNextPage).toBe(true);
      const rest = await api.ok(MEMBERS, { filter: { search: 'bulk' }, first: 1000, after: page.members.pageInfo.endCursor });
      expect(rest.members.edges).toHaveLength(5);
      expect(rest.members.pageInfo.hasNextPage).toBe(false);
      expect((await api.ok(MEMBERS, { filter: { search: 'bulk' } })).members.edges).toHaveLength(20); // the default
      const none = await api.ok(MEMBERS, { filter: { search: 'bulk' }, first: 0 });
      expect(none.members.edges).toEqual([]);
      expect(none.members.pageInfo).toEqual({ hasNextPage: true, endCursor: null });
      expect(await api.code(MEMBERS, { first: -1 })).toBe('BAD_USER_INPUT');
    });

    it('refuses a cursor it did not issue with BAD_USER_INPUT', async () => {
      const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      for (const after of [
        'garbage',
        '',
        b64(['2026-03-02T02:00:00.000Z']),
        b64(['not a date', '00000000-0000-4000-8000-000000000000']),
        b64(['2026-03-02T02:00:00.000Z', 'not-a-uuid']),
        b64({ a: 1 }),
        b64([1, 2, 3]),
      ]) {
        const res = await api.gql(MEMBERS, { after }, tokens.admin());
        expect(res.errors?.[0].extensions, after).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
      }
    });
  });

  describe('freezing', () => {
    it('freezes and unfreezes a member; a reason is required', async () => {
      const m = await createMember(api);
      const FREEZE = 'mutation($id: ID!, $reason: String!) { freezeMember(memberId: $id, reason: $reason) { id status } }';
      const UNFREEZE = 'mutation($id: ID!) { unfreezeMember(memberId: $id) { id status } }';
      for (const reason of ['', '   ', 'r'.repeat(501)]) {
        expect((await api.gql(FREEZE, { id: m.id, reason }, tokens.admin())).errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'reason' });
      }
      expect((await api.ok('{ me { status } }', {}, m.token)).me.status).toBe('ACTIVE');

      expect((await api.ok(FREEZE, { id: m.id, reason: 'chargeback' })).freezeMember).toEqual({ id: m.id, status: 'FROZEN' });
      expect((await api.ok('{ me { status } }', {}, m.token)).me.status).toBe('FROZEN');
      expect((await api.ok(FREEZE, { id: m.id, reason: 'still' })).freezeMember.status).toBe('FROZEN'); // idempotent
      expect((await db.query('SELECT frozen_reason FROM member WHERE id = $1', [m.id])).rows[0].frozen_reason).toBe('still');

      expect((await api.ok(UNFREEZE, { id: m.id })).unfreezeMember).toEqual({ id: m.id, status: 'ACTIVE' });
      expect((await api.ok('{ me { status } }', {}, m.token)).me.status).toBe('ACTIVE');
      expect((await db.query('SELECT frozen_reason FROM member WHERE id = $1', [m.id])).rows[0].frozen_reason).toBeNull();
    });

    it('answers NOT_FOUND for a member that does not exist', async () => {
      for (const id of ['00000000-0000-4000-8000-000000000000', 'nobody']) {
        expect(await api.code('mutation($id: ID!) { freezeMember(memberId: $id, reason: "x") { id } }', { id })).toBe('NOT_FOUND');
        expect(await api.code('mutation($id: ID!) { unfreezeMember(memberId: $id) { id } }', { id })).toBe('NOT_FOUND');
      }
    });
  });

  describe('profile', () => {
    it('lets a member change its nickname', async () => {
      const m = await createMember(api, { nickname: 'before' });
      const res = await api.ok('mutation { updateProfile(nickname: "  after  ") { id nickname lastActiveAt } }', {}, m.token);
      expect(res.updateProfile).toEqual({ id: m.id, nickname: 'after', lastActiveAt: api.clock.now().toISOString() });
      expect((await api.ok('{ me { nickname } }', {}, m.token)).me.nickname).toBe('after');
      for (const nickname of ['', '  ', 'n'.repeat(33)]) {
        expect((await api.gql('mutation($n: String!) { updateProfile(nickname: $n) { id } }', { n: nickname }, m.token)).errors?.[0].extensions).toMatchObject({
          code: 'BAD_USER_INPUT',
          field: 'nickname',
        });
      }
      expect((await api.ok('{ me { nickname } }', {}, m.token)).me.nickname).toBe('after');
    });
  });

  describe('tier progress', () => {
    const progressOf = async (spend: string) => {
      const m = await createMember(api);
      await setSpend(m.id, spend);
      return (await api.ok('{ me { totalSpend tier { level } nextTier { tier { level name } spendNeeded progress } } }', {}, m.token)).me;
    };

    it('shows the next tier, the spend it needs and the progress towards it', async () => {
      expect(await progressOf('3000')).toEqual({
        totalSpend: '3000.00',
        tier: { level: 2 },
        nextTier: { tier: { level: 3, name: '金卡会员' }, spendNeeded: '2000.00', progress: 0.5 },
      });
      expect(await progressOf('0')).toMatchObject({ tier: { level: 1 }, nextTier: { tier: { level: 2 }, spendNeeded: '1000.00', progress: 0 } });
      expect(await progressOf('999.99')).toMatchObject({ tier: { level: 1 }, nextTier: { tier: { level: 2 }, spendNeeded: '0.01', progress: 0.99999 } });
      expect(await progressOf('1000')).toMatchObject({ tier: { level: 2 }, nextTier: { tier: { level: 3 }, spendNeeded: '4000.00', progress: 0 } });
      expect(await progressOf('12500.50')).toMatchObject({ tier: { level: 3 }, nextTier: { tier: { level: 4 }, spendNeeded: '7499.50', progress: 0.5000333333333333 } });
    });

    it('has no next tier at the top', async () => {
      expect(await progressOf('20000')).toEqual({ totalSpend: '20000.00', tier: { level: 4 }, nextTier: null });
      expect(await progressOf('999999.99')).toMatchObject({ tier: { level: 4 }, nextTier: null });
    });
  });

  // Last: it changes the tier set every other test relies on.
  describe('tiers', () => {
    const UPSERT = 'mutation($input: TierInput!) { upsertTier(input: $input) { level name minSpend multiplier benefits } }';
    const levels = async () => (await api.ok('{ tiers { level minSpend } }')).tiers;

    it('refuses a tier set out of order, a non-positive multiplier and other bad input', async () => {
      const bad: [Record<string, unknown>, string][] = [
        [{ level: 5, name: 'cheap', minSpend: '100', multiplier: 3 }, 'minSpend'],
        [{ level: 5, name: 'same', minSpend: '20000', multiplier: 3 }, 'minSpend'],
        [{ level: 3, name: '金卡会员', minSpend: '25000', multiplier: 1.5 }, 'minSpend'],
        [{ level: 1, name: '普通会员', minSpend: '1', multiplier: 1 }, 'minSpend'],
        [{ level: 5, name: 'neg', minSpend: '-1', multiplier: 3 }, 'minSpend'],
        [{ level: 5, name: 'zero', minSpend: '50000', multiplier: 0 }, 'multiplier'],
        [{ level: 5, name: 'neg', minSpend: '50000', multiplier: -2 }, 'multiplier'],
        [{ level: 5, name: 'huge', minSpend: '50000', multiplier: 1000 }, 'multiplier'],
        [{ level: 0, name: 'zero', minSpend: '0', multiplier: 1 }, 'level'],
        [{ level: 5, name: '  ', minSpend: '50000', multiplier: 3 }, 'name'],
      ];
      for (const [input, field] of bad) {
        const res = await api.gql(UPSERT, { input }, tokens.admin());
        expect(res.errors?.[0].extensions, JSON.stringify(input)).toMatchObject({ code: 'BAD_USER_INPUT', field });
      }
      expect(await levels()).toEqual([
        { level: 1, minSpend: '0.00' },
        { level: 2, minSpend: '1000.00' },
        { level: 3, minSpend: '5000.00' },
        { level: 4, minSpend: '20000.00' },
      ]);
    });

    it('adds a new top tier, which members then progress towards', async () => {
      const created = await api.ok(UPSERT, { input: { level: 5, name: '黑金会员', minSpend: '50000', multiplier: 3, benefits: { perks: ['管家'] } } });
      expect(created.upsertTier).toEqual({ level: 5, name: '黑金会员', minSpend: '50000.00', multiplier: 3, benefits: { perks: ['管家'] } });
      expect((await levels()).at(-1)).toEqual({ level: 5, minSpend: '50000.00' });

      const m = await createMember(api);
      await setSpend(m.id, '35000');
      const me = (await api.ok('{ me { tier { level } nextTier { tier { level } spendNeeded progress } } }', {}, m.token)).me;
      expect(me).toEqual({ tier: { level: 4 }, nextTier: { tier: { level: 5 }, spendNeeded: '15000.00', progress: 0.5 } });
    });

    it('updates an existing tier in place, keeping its benefits unless given', async () => {
      const updated = await api.ok(UPSERT, { input: { level: 2, name: '银卡会员+', minSpend: '800.50', multiplier: 1.25 } });
      expect(updated.upsertTier).toMatchObject({ level: 2, name: '银卡会员+', minSpend: '800.50', multiplier: 1.25, benefits: { birthdayMultiplier: 2 } });
      expect((await api.ok('{ tiers { level } }')).tiers).toHaveLength(5);
      const m = await createMember(api);
      await setSpend(m.id, '900');
      expect((await api.ok('{ me { tier { level name } } }', {}, m.token)).me.tier).toEqual({ level: 2, name: '银卡会员+' });
    });
  });
});
