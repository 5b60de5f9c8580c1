import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261122000100Members } from './Migration20261122000100Members';
import { Migration20261122000200Ledger } from './Migration20261122000200Ledger';
import { Migration20261122000300Catalog } from './Migration20261122000300Catalog';
import { Migration20261122000400Leaderboard } from './Migration20261122000400Leaderboard';
import { Migration20261122000500Program } from './Migration20261122000500Program';
import { Migration20261122000600Tasks } from './Migration20261122000600Tasks';
import { Migration20261122000700LedgerRateIndex } from './Migration20261122000700LedgerRateIndex';
import { Migration20261129100000Partners } from './Migration20261129100000Partners';
import { Migration20261129110000Recommendations } from './Migration20261129110000Recommendations';
import { Migration20261129120000Payments } from './Migration20261129120000Payments';
import { Migration20261129170000Lifecycle } from './Migration20261129170000Lifecycle';
import { Migration20261129210000Experiments } from './Migration20261129210000Experiments';
import { Migration20261130010000PurchaseCaps } from './Migration20261130010000PurchaseCaps';
import { Migration20261130120000FlashSale } from './Migration20261130120000FlashSale';
import { Migration20261130140000ExpiryJobs } from './Migration20261130140000ExpiryJobs';
import { Migration20261130200000LotDueIndex } from './Migration20261130200000LotDueIndex';
import { Migration20261130210000ConfigVersion } from './Migration20261130210000ConfigVersion';

/** Applied in this order; never edit a migration that has shipped: add a new one. */
export const MIGRATIONS: MigrationObject[] = [
  { name: 'Migration20261122000100Members', class: Migration20261122000100Members },
  { name: 'Migration20261122000200Ledger', class: Migration20261122000200Ledger },
  { name: 'Migration20261122000300Catalog', class: Migration20261122000300Catalog },
  { name: 'Migration20261122000400Leaderboard', class: Migration20261122000400Leaderboard },
  { name: 'Migration20261122000500Program', class: Migration20261122000500Program },
  { name: 'Migration20261122000600Tasks', class: Migration20261122000600Tasks },
  { name: 'Migration20261122000700LedgerRateIndex', class: Migration20261122000700LedgerRateIndex },
  { name: 'Migration20261129100000Partners', class: Migration20261129100000Partners },
  { name: 'Migration20261129110000Recommendations', class: Migration20261129110000Recommendations },
  { name: 'Migration20261129120000Payments', class: Migration20261129120000Payments },
  { name: 'Migration20261129170000Lifecycle', class: Migration20261129170000Lifecycle },
  { name: 'Migration20261129210000Experiments', class: Migration20261129210000Experiments },
  { name: 'Migration20261130010000PurchaseCaps', class: Migration20261130010000PurchaseCaps },
  { name: 'Migration20261130120000FlashSale', class: Migration20261130120000FlashSale },
  { name: 'Migration20261130140000ExpiryJobs', class: Migration20261130140000ExpiryJobs },
  { name: 'Migration20261130200000LotDueIndex', class: Migration20261130200000LotDueIndex },
  { name: 'Migration20261130210000ConfigVersion', class: Migration20261130210000ConfigVersion },
];
