import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Clock } from '../platform/clock';
import { isUuid } from '../platform/ids';
import { runPrepared, type PreparedStatement } from '../platform/db/prepared';
import type { MemberStatus } from './member.entity';
import type { TierCache } from './tier.cache';
import { SPENDABLE_BALANCE_SQL } from '../ledger';

/** A member as read paths show it: plain data, `balance` being what the member can spend now. */
export interface MemberRecord {
  id: string;
  externalId: string | null;
  nickname: string;
  mobile: string;
  status: MemberStatus;
  totalSpend: string;
  balance: number;
  lifetimeEarned: number;
  inviteCode: string;
  language: string;
  joinedAt: Date;
  lastActiveAt: Date | null;
  /** The held tier and the spend that no longer counts toward upgrades (issue 17). */
  tierLevel: number;
  tierSpendBase: string;
  /** RFM segment key (issue 17), private to the member and admins. */
  segment: string | null;
}

/**
 * Contract: Member.balance is "spendable points now: the sum of unexpired lots". The cached
 * column still holds lots whose time has passed until the expiry job (or the member's next
 * money path) posts their EXPIRY, so those are taken off here, in the same query.
 * A named prepared statement (issue 14: every member screen reads it): parsed once per
 * connection, found by primary key (`= any($2)`: an index scan, where `in (select
 * jsonb_array_elements_text(…))` hashed a sequential scan of every member).
 */
const SPENDABLE_AT_1 = SPENDABLE_BALANCE_SQL.replace('?', '$1');
// The ledger's fragment binds one value (now): a second placeholder would silently shift $2.
if (SPENDABLE_AT_1.includes('?')) throw new Error('SPENDABLE_BALANCE_SQL binds more than one value: number its placeholders in MEMBER_RECORDS');
const MEMBER_COLUMNS = `
  select m.id, m.external_id as "externalId", m.nickname, m.mobile, m.status, m.total_spend as "totalSpend",
         ${SPENDABLE_AT_1} as balance,
         m.lifetime_earned as "lifetimeEarned", m.invite_code as "inviteCode", m.language,
         m.joined_at as "joinedAt", m.last_active_at as "lastActiveAt",
         m.tier_level as "tierLevel", m.tier_spend_base as "tierSpendBase", m.segment
  from member m`;
const MEMBER_RECORDS: PreparedStatement = { name: 'member_records_v1', text: `${MEMBER_COLUMNS} where m.id = any($2::uuid[])` };
// One member (`me`, a mutation's payload: nearly every call): `= $2` plans and runs cheaper than
// `= any($2)` of a one-element array (measured on the bench data: ~1.4x the statements per second).
const MEMBER_RECORD: PreparedStatement = { name: 'member_record_v1', text: `${MEMBER_COLUMNS} where m.id = $2::uuid` };

/** Built per request (and per subscription event): caches never outlive one unit of work. */
export function memberLoaders(em: EntityManager, tierCache: TierCache, clock: Clock) {
  return {
    memberById: new DataLoader<string, MemberRecord | null>(async (ids) => {
      const valid = ids.filter(isUuid);
      const rows =
        valid.length === 0
          ? []
          : valid.length === 1
            ? await runPrepared<MemberRecord>(em, MEMBER_RECORD, [clock.now(), valid[0]])
            : await runPrepared<MemberRecord>(em, MEMBER_RECORDS, [clock.now(), valid]);
      const byId = new Map(rows.map((m) => [m.id, m]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
    /** The whole tier set: small, needed by every member field, cached across requests. */
    tiers: () => tierCache.get(em),
  };
}
