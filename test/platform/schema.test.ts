import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildSchema } from 'graphql';
import { printedSchema } from '../../src/schema';
import { openOrm } from '../../src/platform/db/orm';
import { createDatabaseFromTemplate, dropDatabase } from '../support/db';

describe('schema', () => {
  it('the committed schema/schema.graphql is what the code emits (run `npm run schema:emit` after changing the API)', async () => {
    const committed = readFileSync(join(__dirname, '..', '..', 'schema', 'schema.graphql'), 'utf8');
    const emitted = await printedSchema();
    expect(() => buildSchema(emitted)).not.toThrow();
    expect(committed, 'schema/schema.graphql is stale: run `npm run schema:emit` and commit the result').toBe(emitted);
  });

  it('the migrations build exactly the tables the entities describe', async () => {
    const name = `loyalty_t_schema_${process.pid}_${randomBytes(3).toString('hex')}`;
    const orm = await openOrm(await createDatabaseFromTemplate(name), 2);
    try {
      const diff = await orm.schema.getUpdateSchemaSQL({ wrap: false, safe: false, dropTables: false });
      expect(diff.trim(), `entities and migrations disagree; a migration is missing or an entity is wrong:\n${diff}`).toBe('');
      // The comparison is real: a database that lost an index and a default is told to get them back.
      await orm.em.getConnection().execute('drop index "member_joined_at_id_idx"; alter table "member" alter column "language" drop default');
      const drift = await orm.schema.getUpdateSchemaSQL({ wrap: false, safe: false, dropTables: false });
      expect(drift).toContain('member_joined_at_id_idx');
      expect(drift).toMatch(/"language".*default 'zh'/);
    } finally {
      await orm.close();
      await dropDatabase(name);
    }
  });
});
