import { describe, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import { startApp, wsExecute } from '../support/app';
import { createMember, uniqueMobile } from '../support/factories';
import { jwtSettings, tokens } from '../support/tokens';
import { partnerCall } from '../support/partner';
import { MemberByExternalIdDocument } from '../../schema/generated/graphql';

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A token that differs from a valid admin token only in what the caller overrides. */
function adminToken(claims: Record<string, unknown> = {}, key: string = jwtSettings.key) {
  return tokens.raw({ role: 'admin', sub: 'admin-auth', iss: jwtSettings.issuer, aud: jwtSettings.audience, exp: nowSeconds() + 600, ...claims }, key);
}

/** Resolves with the close code of a socket the server closes (or null if it stays open that long). */
function closeCode(client: Client, waitMs = 2000): Promise<number | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), waitMs);
    client.on('closed', (event) => {
      clearTimeout(timer);
      resolve((event as { code: number }).code);
    });
  });
}

describe('authentication', async () => {
  const api = await startApp();
  const query = '{ tiers { level } }';

  it('accepts a well-formed token (the control for every refusal below)', async () => {
    const res = await api.gql(query, {}, adminToken());
    expect(res.status).toBe(200);
    expect(res.data.tiers).toHaveLength(4);
  });

  const alg = (header: Record<string, unknown>, claims: Record<string, unknown>) => `${b64url(header)}.${b64url(claims)}.`;
  const validClaims = () => ({ role: 'admin', sub: 'admin-auth', iss: jwtSettings.issuer, aud: jwtSettings.audience, exp: nowSeconds() + 600 });

  const refused: [string, () => string | null][] = [
    ['no token', () => null],
    ['a garbage token', () => 'not-a-jwt'],
    ['a token signed with another secret', () => adminToken({}, 'another-secret-that-is-long-enough-0123456789')],
    ['an expired token', () => adminToken({ exp: nowSeconds() - 60 })],
    ['an unsigned token (alg: none)', () => alg({ alg: 'none', typ: 'JWT' }, validClaims())],
    ['an unsigned token (alg: NONE) with a signature part', () => `${alg({ alg: 'NONE', typ: 'JWT' }, validClaims())}AAAA`],
    ['a token with another algorithm (HS512, same secret)', () => tokens.raw(validClaims(), jwtSettings.key, { algorithm: 'HS512' })],
    ['a token for another audience', () => adminToken({ aud: 'someone-else' })],
    ['a token from another issuer', () => adminToken({ iss: 'evil-idp' })],
    ['a token without exp', () => tokens.raw({ role: 'admin', sub: 'admin-auth', iss: jwtSettings.issuer, aud: jwtSettings.audience })],
    ['a token with an unknown role', () => adminToken({ role: 'superuser' })],
    ['a token without a role', () => adminToken({ role: undefined })],
    ['a token without sub', () => adminToken({ sub: undefined })],
    ['a partner token without partnerId', () => adminToken({ role: 'partner', sub: 'partner-x' })],
    ['a member token whose sub is not a uuid', () => adminToken({ role: 'member', sub: 'member-1' })],
  ];

  for (const [what, token] of refused) {
    it(`refuses ${what}: UNAUTHENTICATED, HTTP 401, no data`, async () => {
      const res = await api.gql(query, {}, token());
      expect(res.status).toBe(401);
      expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
      expect(res.data ?? null).toBeNull();
    });
  }

  it('needs the Bearer scheme', async () => {
    for (const authorization of [adminToken(), `Basic ${adminToken()}`, `Bearer`, `Bearer ${adminToken()} extra`]) {
      const res = await api.gql(query, {}, null, { headers: { authorization } });
      expect(res.status, authorization.slice(0, 20)).toBe(401);
      expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    }
    const lower = await api.gql(query, {}, null, { headers: { authorization: `bearer ${adminToken()}` } });
    expect(lower.status).toBe(200);
  });

  it('says why an expired token is refused, and nothing about the key', async () => {
    const res = await api.gql(query, {}, adminToken({ exp: nowSeconds() - 60 }));
    expect(res.errors?.[0].message).toMatch(/expired/i);
    expect(JSON.stringify(res)).not.toContain(jwtSettings.key);
  });
});

describe('authorization', async () => {
  const api = await startApp();
  const alice = await createMember(api, { nickname: 'alice', externalId: 'auth-alice' });
  const bob = await createMember(api, { nickname: 'bob' });
  const MEMBER = 'query($id: ID!) { member(id: $id) { id nickname } }';

  it('lets a member read itself through member(id:) and me', async () => {
    expect((await api.ok(MEMBER, { id: alice.id }, alice.token)).member).toEqual({ id: alice.id, nickname: 'alice' });
    expect((await api.ok('{ me { id } }', {}, alice.token)).me).toEqual({ id: alice.id });
  });

  it('refuses a member reading another member: FORBIDDEN and no data', async () => {
    const res = await api.gql(MEMBER, { id: bob.id }, alice.token);
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    expect(res.data?.member ?? null).toBeNull();
    expect(JSON.stringify(res)).not.toContain('bob');
  });

  it('refuses a member the admin and partner operations', async () => {
    const ops: [string, Record<string, unknown>][] = [
      ['{ members { totalCount } }', {}],
      ['query { memberByExternalId(externalId: "auth-alice") { id } }', {}],
      ['mutation($i: RegisterMemberInput!) { registerMember(input: $i) { id } }', { i: { mobile: uniqueMobile(), nickname: 'sneaky' } }],
      ['mutation($id: ID!) { freezeMember(memberId: $id, reason: "x") { id } }', { id: alice.id }],
      ['mutation($id: ID!) { unfreezeMember(memberId: $id) { id } }', { id: alice.id }],
      ['mutation { upsertTier(input: { level: 1, name: "hacked", minSpend: "0", multiplier: 10 }) { id } }', {}],
    ];
    for (const [op, variables] of ops) {
      expect(await api.code(op, variables, alice.token), op).toBe('FORBIDDEN');
    }
    // Nothing happened: no member registered, alice still active, tier 1 untouched.
    const data = await api.ok('query($id: ID!) { members(filter: { search: "sneaky" }) { totalCount } member(id: $id) { status } tiers { level name multiplier } }', { id: alice.id });
    expect(data.members.totalCount).toBe(0);
    expect(data.member.status).toBe('ACTIVE');
    expect(data.tiers[0]).toEqual({ level: 1, name: '普通会员', multiplier: 1 });
  });

  it('lets a partner look up members through its reviewed operations only; on /graphql it may do nothing', async () => {
    const partner = tokens.partner('acme');
    const found = await partnerCall(api, MemberByExternalIdDocument, { externalId: 'auth-alice' }, partner);
    expect(found.data?.memberByExternalId?.id).toBe(alice.id);
    for (const [op, variables] of [
      [MEMBER, { id: bob.id }],
      ['mutation($id: ID!) { freezeMember(memberId: $id, reason: "partner says so") { id } }', { id: bob.id }],
      ['mutation { upsertTier(input: { level: 9, name: "x", minSpend: "999999", multiplier: 1 }) { id } }', {}],
      ['{ members { totalCount } }', {}],
    ] as const) {
      const res = await api.gql(op, variables, partner);
      expect(res.status).toBe(403);
      expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      expect(res.errors?.[0].message).toContain('/partner/graphql');
    }
    expect((await api.ok(MEMBER, { id: bob.id })).member.nickname).toBe('bob');
    const status = await api.ok(MEMBER.replace('nickname', 'status'), { id: bob.id });
    expect(status.member.status).toBe('ACTIVE');
  });

  it('gives admins no "me" and no profile to update', async () => {
    expect((await api.ok('{ me { id } }', {}, tokens.admin())).me).toBeNull();
    expect(await api.code('mutation { updateProfile(nickname: "root") { id } }', {}, tokens.admin())).toBe('FORBIDDEN');
  });

  it('treats a member token for a member that does not exist as nobody, not as an error', async () => {
    const ghost = tokens.member('00000000-0000-4000-8000-000000000000');
    expect((await api.ok('{ me { id } }', {}, ghost)).me).toBeNull();
    expect(await api.code('mutation { updateProfile(nickname: "ghost") { id } }', {}, ghost)).toBe('NOT_FOUND');
  });
});

describe('websocket authentication', async () => {
  const api = await startApp();
  const member = await createMember(api, { nickname: 'socket' });

  it('closes a socket whose connection_init has no token with 4403', async () => {
    expect(await closeCode(api.ws(null))).toBe(4403);
  });

  it('closes a socket with an invalid token with 4403', async () => {
    expect(await closeCode(api.ws('not-a-jwt'))).toBe(4403);
    expect(await closeCode(api.ws(adminToken({ exp: nowSeconds() - 60 })))).toBe(4403);
    expect(await closeCode(api.ws(alg({ alg: 'none', typ: 'JWT' }, { role: 'admin', sub: 'a', iss: jwtSettings.issuer, aud: jwtSettings.audience, exp: nowSeconds() + 60 })))).toBe(4403);
    expect(await closeCode(api.ws(null, { connectionParams: { authorization: 42 } }))).toBe(4403);
  });

  it('runs operations for a valid token, with the same rules as HTTP', async () => {
    const client = api.ws(member.token);
    // The answered operations prove the socket stayed open; nothing is waited out.
    let closed: number | null = null;
    client.on('closed', (event) => (closed = (event as { code: number }).code));
    expect(await wsExecute(client, '{ me { id nickname } }')).toEqual({ status: 200, data: { me: { id: member.id, nickname: 'socket' } } });
    const forbidden = await wsExecute(client, '{ members { totalCount } }');
    expect(forbidden.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    expect(closed).toBeNull();
  });

  it('keeps a socket usable for many operations in a row', async () => {
    const client = api.ws(tokens.admin());
    // More than WS_MAX_SUBSCRIPTIONS (20): finished operations must not count against the limit.
    for (let i = 0; i < 25; i++) {
      const res = await wsExecute(client, '{ tiers { level } }');
      expect(res.errors, `operation ${i}`).toBeUndefined();
    }
  });

  function alg(header: Record<string, unknown>, claims: Record<string, unknown>) {
    return `${b64url(header)}.${b64url(claims)}.`;
  }
});
