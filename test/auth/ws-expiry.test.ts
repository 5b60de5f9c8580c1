import { describe, expect, it } from 'vitest';
import { startApp } from '../support/app';
import { createMember } from '../support/factories';
import { jwtSettings } from '../support/tokens';
import { mintToken } from '../../src/auth/jwt';

describe('websocket lifetime', async () => {
  // No clock tolerance here: the socket is closed at exp (+ tolerance), and this test waits in real time.
  const api = await startApp({ env: { JWT_CLOCK_TOLERANCE_SECONDS: '0' } });

  it('closes a socket with 4403 when its token expires', async () => {
    const m = await createMember(api);
    const shortLived = mintToken(jwtSettings, { role: 'member', sub: m.id, expiresInSeconds: 2 });
    const client = api.ws(shortLived);
    const closed = new Promise<number>((resolve) => client.on('closed', (event) => resolve((event as { code: number }).code)));
    const opened = await new Promise<boolean>((resolve) => client.on('connected', () => resolve(true)));
    expect(opened).toBe(true);
    const started = Date.now();
    expect(await closed).toBe(4403);
    expect(Date.now() - started).toBeLessThan(3500);
  });
});
