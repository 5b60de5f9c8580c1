/**
 * What other domains may use of the ledger (the boundary rule in eslint.config.mjs keeps them out
 * of ledger.entity / ledger.writer / ledger.sql / ledger.resolver). The writer is exported as a
 * type only: a domain receives one from the ledger's unit of work and never builds its own.
 */
export { LedgerEntryType, type LedgerEntry } from './ledger.entity';
export { SPENDABLE_BALANCE_SQL } from './ledger.sql';
export { TIER_BONUS_SOURCE, type LedgerWriter, type LockedMember, type EntryRow, type RewardCaps } from './ledger.writer';
export { LedgerWriters } from './ledger.writers';
export type { PurchasePosted } from './ledger.service';
