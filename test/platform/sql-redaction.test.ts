import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { startApp } from '../support/app';
import { createLogger } from '../../src/platform/logger';
import { openOrm } from '../../src/platform/db/orm';
import { redactSql } from '../../src/platform/sql-redaction';

/** A pino destination that keeps every line. */
function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, stream };
}

const MOBILE = '13912345678';
const NAME = '王小明';

describe('logged SQL carries no values', async () => {
  const api = await startApp();

  it('redacts string and number literals and quoted values, keeping the statement’s shape', () => {
    expect(redactSql(`select * from "member" as "m0" where "m0"."mobile" = '${MOBILE}' and "m0"."nickname" = 'O''Brien' limit 21`)).toBe(
      `select * from "member" as "m0" where "m0"."mobile" = '?' and "m0"."nickname" = '?' limit ?`,
    );
    expect(redactSql('update lot set remaining = remaining - 250 where id = $1')).toBe('update lot set remaining = remaining - ? where id = $1');
    expect(redactSql(`Key (mobile)=(${MOBILE}) already exists.`)).toBe('Key (mobile)=(?) already exists.');
    expect(redactSql(`invalid input syntax for type uuid: "${MOBILE}"`)).toBe('invalid input syntax for type uuid: "?"');
  });

  it('at LOG_LEVEL=debug logs statements with placeholders, and a failed statement’s error without its values', async () => {
    const { lines, stream } = capture();
    const log = createLogger('debug', { destination: stream });
    const orm = await openOrm(api.databaseUrl, 2, { log });
    try {
      const em = orm.em.fork();
      await em.execute('select id from member where mobile = ? and nickname = ?', [MOBILE, NAME]);
      const failed = await em.execute('select id from member where id = ? and nickname = ?', [MOBILE, NAME]).catch((error: unknown) => error as Error);
      expect(failed).toBeInstanceOf(Error);
      expect((failed as Error).message).toContain(MOBILE); // what the driver says, unredacted…
      log.error({ err: failed }, 'unexpected error'); // …is logged as the error path does
    } finally {
      await orm.close();
    }
    const output = lines.join('\n');
    expect(lines.some((l) => JSON.parse(l).msg === 'sql' && /from member where mobile = /.test(JSON.parse(l).sql))).toBe(true);
    expect(lines.some((l) => JSON.parse(l).msg === 'unexpected error' && /select id from member/.test(JSON.parse(l).err.message))).toBe(true);
    expect(output).not.toContain(MOBILE);
    expect(output).not.toContain(NAME);
  });

  it('logs no statements at the default level', async () => {
    const { lines, stream } = capture();
    const orm = await openOrm(api.databaseUrl, 2, { log: createLogger('info', { destination: stream }) });
    try {
      await orm.em.fork().execute('select id from member where mobile = ?', [MOBILE]);
    } finally {
      await orm.close();
    }
    expect(lines.filter((l) => JSON.parse(l).msg === 'sql')).toEqual([]);
  });
});
