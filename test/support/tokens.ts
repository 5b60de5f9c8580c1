import jwt from 'jsonwebtoken';
import { loadConfig } from '../../src/platform/config';
import { mintToken } from '../../src/auth/jwt';

export const jwtSettings = loadConfig({ NODE_ENV: 'test' }).jwt;

export const tokens = {
  admin: (sub = 'admin-test') => mintToken(jwtSettings, { role: 'admin', sub }),
  partner: (partnerId = 'partner-test') => mintToken(jwtSettings, { role: 'partner', sub: partnerId, partnerId }),
  member: (memberId: string) => mintToken(jwtSettings, { role: 'member', sub: memberId }),
  /** Anything a hostile or broken client might send. */
  raw: (claims: Record<string, unknown>, key: string = jwtSettings.key, options: jwt.SignOptions = {}) => jwt.sign(claims, key, { algorithm: 'HS256', ...options }),
};
