import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Clock } from '../platform/clock';
import { isUuid } from '../platform/ids';
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
 */
const MEMBER_RECORDS = `
  select m.id, m.external_id as "externalId", m.nickname, m.mobile, m.status, m.total_spend as "totalSpend",
         ${SPENDABLE_BALANCE_SQL} as balance,
         m.lifetime_earned as "lifetimeEarned", m.invite_code as "inviteCode", m.language,
         m.joined_at as "joinedAt", m.last_active_at as "lastActiveAt",
         m.tier_level as "tierLevel", m.tier_spend_base as "tierSpendBase", m.segment
  from member m where m.id in (select jsonb_array_elements_text(?::jsonb)::uuid)`;

/** Built per request (and per subscription event): caches never outlive one unit of work. */
export function memberLoaders(em: EntityManager, tierCache: TierCache, clock: Clock) {
  return {
    memberById: new DataLoader<string, MemberRecord | null>(async (ids) => {
      const valid = ids.filter(isUuid);
      const rows = valid.length ? await em.execute<MemberRecord[]>(MEMBER_RECORDS, [clock.now(), JSON.stringify(valid)]) : [];
      const byId = new Map(rows.map((m) => [m.id, m]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
    /** The whole tier set: small, needed by every member field, cached across requests. */
    tiers: () => tierCache.get(em),
  };
}
