import { describe, expect, it } from 'vitest';
import jwt from 'jsonwebtoken';
import { startApp, wsExecute } from '../support/app';
import { createMember } from '../support/factories';
import { jwtSettings, tokens } from '../support/tokens';

const nowSeconds = () => Math.floor(Date.now() / 1000);
const DAY = 86_400;
const ME = '{ me { id } }';

/** A member token with the claims given; iat is left out unless set (jsonwebtoken would stamp it). */
function memberToken(memberId: string, claims: Record<string, unknown>, key = jwtSettings.key) {
  return jwt.sign({ role: 'member', sub: memberId, iss: jwtSettings.issuer, aud: jwtSettings.audience, exp: nowSeconds() + 3600, ...claims }, key, {
    algorithm: 'HS256',
    noTimestamp: !('iat' in claims),
  });
}

describe('token age, iat and clock tolerance', async () => {
  const api = await startApp({ env: { JWT_MAX_AGE: '7d' } });
  const m = await createMember(api);

  const httpCode = async (token: string) => (await api.gql(ME, {}, token)).errors?.[0]?.extensions?.code ?? 'ok';
  /** 'ok' when the socket accepts the token (an operation runs), else the close code. */
  const wsOutcome = (token: string) =>
    new Promise<string | number>((resolve) => {
      const client = api.ws(token);
      client.on('closed', (event) => resolve((event as { code: number }).code));
      void wsExecute(client, ME).then(
        (res) => resolve(res.errors ? 'errors' : 'ok'),
        () => undefined,
      );
    });

  it.each([
    ['has no iat', (id: string) => memberToken(id, {})],
    ['is older than JWT_MAX_AGE, though exp is ahead', (id: string) => memberToken(id, { iat: nowSeconds() - 7 * DAY - 60, exp: nowSeconds() + DAY })],
    ['was issued in the future, beyond the clock tolerance', (id: string) => memberToken(id, { iat: nowSeconds() + 60 })],
    ['expired beyond the clock tolerance', (id: string) => memberToken(id, { iat: nowSeconds() - 120, exp: nowSeconds() - 30 })],
  ])('refuses a token that %s: UNAUTHENTICATED over HTTP, 4403 over WebSocket', async (_name, make) => {
    const token = make(m.id);
    expect(await httpCode(token)).toBe('UNAUTHENTICATED');
    expect(await wsOutcome(token)).toBe(4403);
  });

  it.each([
    ['is just younger than JWT_MAX_AGE', (id: string) => memberToken(id, { iat: nowSeconds() - 7 * DAY + 60 })],
    ['comes from a clock 3 s ahead (iat in the future, within the tolerance)', (id: string) => memberToken(id, { iat: nowSeconds() + 3 })],
    ['expired 2 s ago (within the tolerance)', (id: string) => memberToken(id, { iat: nowSeconds() - 60, exp: nowSeconds() - 2 })],
    ['is minted by the test helpers (iat stamped)', (id: string) => tokens.member(id)],
  ])('accepts a token that %s', async (_name, make) => {
    const token = make(m.id);
    expect(await httpCode(token)).toBe('ok');
    expect(await wsOutcome(token)).toBe('ok');
  });
});

describe('rotating the JWT secret without downtime (JWT_SECRET_PREVIOUS)', async () => {
  const OLD = 'old-secret-rotated-out-0123456789abcdef';
  const NEW = 'new-secret-rotated-in-0123456789abcdefg';
  const rotating = await startApp({ env: { JWT_SECRET: NEW, JWT_SECRET_PREVIOUS: OLD } });
  const after = await startApp({ sharing: rotating, env: { JWT_SECRET: NEW } });
  // Members are registered through an instance on the test secret (the partner token helper's).
  const m = await createMember(await startApp({ sharing: rotating }));

  it('accepts tokens signed with the new and the previous secret while both are set, then only the new', async () => {
    const signed = (key: string) => memberToken(m.id, { iat: nowSeconds() }, key);
    for (const key of [NEW, OLD]) {
      expect((await rotating.gql(ME, {}, signed(key))).data?.me?.id).toBe(m.id);
      const client = rotating.ws(signed(key));
      expect((await wsExecute(client, ME)).data?.me?.id).toBe(m.id);
    }
    expect((await rotating.gql(ME, {}, signed('a-third-secret-nobody-configured-0123'))).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    // Once the rotation is over (JWT_SECRET_PREVIOUS removed), the old secret's tokens are refused.
    expect((await after.gql(ME, {}, signed(NEW))).data?.me?.id).toBe(m.id);
    expect((await after.gql(ME, {}, signed(OLD))).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});
