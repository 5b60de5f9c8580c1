import { parseArgs } from 'node:util';
import { loadConfig } from '../platform/config';
import { mintToken } from '../auth/jwt';
import { ROLES, type Role } from '../auth/principal';

/** npm run token -- --role admin|partner|member --sub ID [--partner ID] [--days N] */
function run() {
  const { values } = parseArgs({
    options: {
      role: { type: 'string' },
      sub: { type: 'string' },
      partner: { type: 'string' },
      days: { type: 'string', default: '30' },
    },
  });
  const role = values.role as Role;
  if (!ROLES.includes(role) || !values.sub) {
    process.stderr.write('usage: npm run token -- --role admin|partner|member --sub ID [--partner ID] [--days N]\n');
    process.exit(2);
  }
  const config = loadConfig();
  if (config.jwt.algorithm !== 'HS256') {
    process.stderr.write('JWT_PUBLIC_KEY is set: tokens come from your identity provider, not from this tool.\n');
    process.exit(2);
  }
  const token = mintToken(config.jwt, {
    role,
    sub: values.sub,
    partnerId: values.partner,
    expiresInSeconds: Number(values.days) * 86_400,
  });
  process.stdout.write(`${token}\n`);
}

run();
