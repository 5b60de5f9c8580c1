import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { systemClock, type Clock } from '../platform/clock';
import type { Config } from '../platform/config';
import { isUuid } from '../platform/ids';
import { UnauthenticatedError } from '../platform/errors';
import { ROLES, type Principal, type Role } from './principal';

/**
 * A key object made once: given a string, jsonwebtoken 9 tries to parse it as a public key on
 * every call (~0.5 ms of CPU per request; auth0/node-jsonwebtoken#1046).
 */
function keyObject(algorithm: 'HS256' | 'RS256', key: string): KeyObject {
  return algorithm === 'HS256' ? createSecretKey(Buffer.from(key)) : createPublicKey(key);
}

export class TokenVerifier {
  /** The current key first; during a rotation the previous one too (JWT_SECRET_PREVIOUS). */
  private readonly keys: KeyObject[];

  /**
   * `clock` is the token clock: tokens are minted by an identity provider in wall time, so it is
   * the system clock in the server (a test's program clock may stand months away from now).
   */
  constructor(
    private readonly settings: Config['jwt'],
    private readonly clock: Clock = systemClock,
  ) {
    this.keys = [settings.key, settings.previousKey].filter((k): k is string => !!k).map((k) => keyObject(settings.algorithm, k));
  }

  /** Accepts "Bearer <jwt>"; the algorithm is pinned, so `alg: none` and others are refused. */
  verifyAuthorization(header: string | undefined | null): Principal {
    const match = /^Bearer\s+(\S+)$/i.exec(header?.trim() ?? '');
    if (!match) throw new UnauthenticatedError();
    return this.verify(match[1]);
  }

  verify(token: string, now = this.clock.now().getTime()): Principal {
    const claims = this.verifiedClaims(token, now);
    if (typeof claims.exp !== 'number') throw new UnauthenticatedError('The token has no expiry');
    // jsonwebtoken checks iat only against maxAge; a token issued in the future is as suspect as an old one.
    if (claims.iat! > now / 1000 + this.settings.clockToleranceSeconds) throw new UnauthenticatedError('The token is not valid yet');
    const role = claims.role as Role;
    if (!ROLES.includes(role) || typeof claims.sub !== 'string' || !claims.sub) {
      throw new UnauthenticatedError('The token has no valid role or subject');
    }
    if (role === 'member' && !isUuid(claims.sub)) throw new UnauthenticatedError('The token names no member');
    if (role === 'partner' && typeof claims.partnerId !== 'string') {
      throw new UnauthenticatedError('A partner token must carry partnerId');
    }
    return {
      role,
      subject: claims.sub,
      memberId: role === 'member' ? claims.sub : null,
      partnerId: role === 'partner' ? (claims.partnerId as string) : null,
      // Valid until exp plus the tolerance, as verification sees it: a socket is closed then, not before.
      expiresAt: (claims.exp + this.settings.clockToleranceSeconds) * 1000,
    };
  }

  /**
   * Signature, algorithm, iss, aud, exp, and age: `iat` is required and must be younger than
   * JWT_MAX_AGE, with JWT_CLOCK_TOLERANCE_SECONDS of skew allowed on every time claim.
   * A bad signature is retried with the previous key while a rotation is under way.
   */
  private verifiedClaims(token: string, now: number): jwt.JwtPayload {
    let failure: unknown;
    for (const key of this.keys) {
      try {
        const decoded = jwt.verify(token, key, {
          algorithms: [this.settings.algorithm],
          issuer: this.settings.issuer,
          audience: this.settings.audience,
          maxAge: this.settings.maxAgeSeconds,
          clockTolerance: this.settings.clockToleranceSeconds,
          clockTimestamp: Math.floor(now / 1000),
        });
        if (typeof decoded === 'string' || typeof decoded.iat !== 'number') throw new jwt.JsonWebTokenError('iat required');
        return decoded;
      } catch (error) {
        failure = error;
        if (!(error instanceof jwt.JsonWebTokenError && error.message === 'invalid signature')) break;
      }
    }
    const reason = failure instanceof jwt.TokenExpiredError ? 'The token has expired' : 'The token is not valid';
    throw new UnauthenticatedError(reason);
  }
}

/** One signature check per key; anything else wrong with the token is the same on every key. */
export interface MintOptions {
  role: Role;
  sub: string;
  partnerId?: string;
  expiresInSeconds?: number;
}

const signingKeys = new Map<string, KeyObject>();
const signingKey = (secret: string) => {
  let key = signingKeys.get(secret);
  if (!key) signingKeys.set(secret, (key = createSecretKey(Buffer.from(secret))));
  return key;
};

/** Development and test tokens only: production tokens come from the identity provider. */
export function mintToken(settings: { key: string; issuer: string; audience: string }, options: MintOptions): string {
  // jwt.sign stamps iat (now), which verification requires.
  const claims: Record<string, unknown> = { role: options.role };
  if (options.role === 'partner') claims.partnerId = options.partnerId ?? options.sub;
  return jwt.sign(claims, signingKey(settings.key), {
    algorithm: 'HS256',
    subject: options.sub,
    issuer: settings.issuer,
    audience: settings.audience,
    expiresIn: options.expiresInSeconds ?? 60 * 60 * 24 * 30,
  });
}
