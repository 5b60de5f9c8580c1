import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { uniqueViolation } from '../../src/platform/db/orm';
import { startApp } from '../support/app';

/**
 * Use cases tell a lost race by the unique constraint it broke (uniqueViolation, then CONFLICT or
 * a retry). A prepared statement's failure is the driver's own error, not the ORM's exception: both
 * must name the constraint (an earning's purchase insert is prepared since issue 14).
 */
describe('uniqueViolation', async () => {
  const api = await startApp();

  it('names the constraint of a duplicate written by a prepared statement (the driver error) and of one written through the ORM', async () => {
    const db = new pg.Client({ connectionString: api.databaseUrl });
    await db.connect();
    try {
      const insert = { name: 'uv_insert', text: 'insert into config_version (id, version) values ($1, $2)', values: [1, 1] };
      const driverError = await db.query(insert).then(
        () => null,
        (error: unknown) => error,
      );
      expect(uniqueViolation(driverError)).toBe('config_version_pkey');
      const ormError = await api.app.orm.em
        .fork()
        .execute('insert into config_version (id, version) values (1, 1)')
        .then(
          () => null,
          (error: unknown) => error,
        );
      expect(uniqueViolation(ormError)).toBe('config_version_pkey');
      expect(uniqueViolation(new Error('something else'))).toBeNull();
    } finally {
      await db.end();
    }
  });
});
