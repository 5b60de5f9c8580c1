import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261122000100Members } from './Migration20261122000100Members';

/** Applied in this order; never edit a migration that has shipped: add a new one. */
export const MIGRATIONS: MigrationObject[] = [
  { name: 'Migration20261122000100Members', class: Migration20261122000100Members },
];
