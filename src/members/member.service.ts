import type { FilterQuery } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Decimal } from 'decimal.js';
import type { Clock } from '../platform/clock';
import { BadInputError } from '../platform/errors';
import { decodeTimeIdCursor, pageSize } from '../platform/graphql/connection';
import { uniqueViolation } from '../platform/db/orm';
import { isUuid, likeEscape } from '../platform/ids';
import { Member, MemberStatus } from './member.entity';
import { Tier } from './tier.entity';
import { TierCache, type TierView } from './tier.cache';
import { DuplicateMemberError, MemberNotFoundError } from './member.errors';
import { newInviteCode, normalizeMobile, normalizeNickname, tierProblems } from './member.rules';
import type { MemberFilter, RegisterMemberInput, TierInput } from './member.types';
import { transact, type UnitOfWork } from '../platform/db/unit-of-work';

const EXTERNAL_ID_MAX = 64;
const REASON_MAX = 500;
const INVITE_CODE_ATTEMPTS = 5;
const MAX_AMOUNT = new Decimal('1e12');

export interface MemberPage {
  rows: Member[];
  limit: number;
  totalCount: number;
}

export class MemberService {
  readonly tierCache: TierCache;

  constructor(private readonly clock: Clock) {
    this.tierCache = new TierCache(clock);
  }

  async findById(em: EntityManager, id: string): Promise<Member | null> {
    return isUuid(id) ? em.findOne(Member, { id }) : null;
  }

  async getById(em: EntityManager, id: string): Promise<Member> {
    const member = await this.findById(em, id);
    if (!member) throw new MemberNotFoundError(id);
    return member;
  }

  async findByExternalId(em: EntityManager, externalId: string): Promise<Member | null> {
    return em.findOne(Member, { externalId });
  }

  /**
   * Registration by a partner or admin. `alsoDo` runs inside the registration's own unit of work
   * (the referral reward), so a member never exists without what came with it.
   */
  async register(em: EntityManager, input: RegisterMemberInput, alsoDo?: (uow: UnitOfWork, member: Member) => Promise<void>): Promise<Member> {
    const mobile = normalizeMobile(input.mobile);
    if (!mobile) throw new BadInputError('mobile must be a mainland mobile number such as 13812341234', 'mobile');
    const nickname = normalizeNickname(input.nickname);
    if (!nickname) throw new BadInputError('nickname must be 1 to 32 characters', 'nickname');
    const externalId = input.externalId?.trim() || null;
    if (externalId && externalId.length > EXTERNAL_ID_MAX) {
      throw new BadInputError(`externalId must be at most ${EXTERNAL_ID_MAX} characters`, 'externalId');
    }

    for (let attempt = 1; ; attempt++) {
      try {
        return await transact(em.fork(), async (uow) => {
          const tx = uow.tx;
          let referredBy: string | null = null;
          if (input.inviteCode != null) {
            const inviter = await tx.findOne(Member, { inviteCode: input.inviteCode.trim().toUpperCase() });
            if (!inviter) throw new BadInputError('inviteCode names no member', 'inviteCode');
            referredBy = inviter.id;
          }
          const now = this.clock.now();
          const member = tx.create(Member, {
            mobile,
            nickname,
            externalId,
            referredBy,
            inviteCode: newInviteCode(),
            joinedAt: now,
            updatedAt: now,
          });
          await tx.flush();
          if (alsoDo) await alsoDo(uow, member);
          return member;
        });
      } catch (error) {
        const constraint = uniqueViolation(error);
        if (constraint === 'member_mobile_unique') throw new DuplicateMemberError('mobile');
        if (constraint === 'member_external_id_unique') throw new DuplicateMemberError('externalId');
        if (constraint === 'member_invite_code_unique' && attempt < INVITE_CODE_ATTEMPTS) continue;
        throw error;
      }
    }
  }

  async updateProfile(em: EntityManager, memberId: string, nicknameInput: string): Promise<Member> {
    const nickname = normalizeNickname(nicknameInput);
    if (!nickname) throw new BadInputError('nickname must be 1 to 32 characters', 'nickname');
    return transact(em, async ({ tx }) => {
      const member = await this.getById(tx, memberId);
      member.nickname = nickname;
      member.updatedAt = member.lastActiveAt = this.clock.now();
      return member;
    });
  }

  /** Freezing is idempotent; the latest reason is kept. */
  async setFrozen(em: EntityManager, memberId: string, frozen: boolean, reason?: string): Promise<Member> {
    const why = reason?.trim() ?? '';
    if (frozen && (why.length === 0 || why.length > REASON_MAX)) {
      throw new BadInputError(`reason must be 1 to ${REASON_MAX} characters`, 'reason');
    }
    return transact(em, async ({ tx }) => {
      const member = await this.getById(tx, memberId);
      member.status = frozen ? MemberStatus.FROZEN : MemberStatus.ACTIVE;
      member.frozenReason = frozen ? why : null;
      member.updatedAt = this.clock.now();
      return member;
    });
  }

  async list(em: EntityManager, filter: MemberFilter | null | undefined, first: number | null | undefined, after: string | null | undefined): Promise<MemberPage> {
    const limit = pageSize(first);
    const where: FilterQuery<Member>[] = [];
    if (filter?.status) where.push({ status: filter.status });
    if (filter?.tierLevel != null) {
      // The held tier (issue 17), not the one spend reaches: a kept or protected tier stays listed as held.
      where.push({ tierLevel: filter.tierLevel });
    }
    const search = filter?.search?.trim();
    if (search) {
      const mobile = normalizeMobile(search);
      where.push({
        $or: [{ nickname: { $ilike: `%${likeEscape(search)}%` } }, { externalId: search }, ...(mobile ? [{ mobile }] : [])],
      });
    }
    const totalCount = await em.count(Member, { $and: where });

    const cursor = decodeTimeIdCursor(after);
    if (cursor) where.push({ $or: [{ joinedAt: { $lt: cursor.at } }, { joinedAt: cursor.at, id: { $lt: cursor.id } }] });
    const rows = await em.find(Member, { $and: where }, { orderBy: [{ joinedAt: 'desc' }, { id: 'desc' }], limit: limit + 1 });
    return { rows, limit, totalCount };
  }

  /** The tier set as plain values, read fresh (money paths: the earning multiplier must be current). */
  async tierValues(em: EntityManager): Promise<TierView[]> {
    return em.execute<TierView[]>(
      `select id, level, name, min_spend::text as "minSpend", multiplier::text as multiplier, benefits, keep_by_recent_spend as "keepByRecentSpend", upgrade_bonus as "upgradeBonus" from tier order by level`,
    );
  }

  async listTiers(em: EntityManager): Promise<Tier[]> {
    return em.find(Tier, {}, { orderBy: { level: 'asc' } });
  }

  /** Tiers are keyed by level; the whole set must stay ordered (see tierProblems). */
  async upsertTier(em: EntityManager, input: TierInput): Promise<Tier> {
    if (!Number.isInteger(input.level) || input.level < 1 || input.level > 100) throw new BadInputError('level must be 1..100', 'level');
    const name = input.name.trim();
    if (name.length === 0 || name.length > 32) throw new BadInputError('name must be 1 to 32 characters', 'name');
    // numeric(14,2): a larger amount would fail in SQL and reach the client as an internal error.
    if (input.minSpend.isNegative() || input.minSpend.decimalPlaces() > 2 || input.minSpend.gte(MAX_AMOUNT)) {
      throw new BadInputError('minSpend must be a non-negative amount under 1000000000000 with at most 2 decimals', 'minSpend');
    }
    if (!Number.isFinite(input.multiplier) || input.multiplier <= 0 || input.multiplier > 100) {
      throw new BadInputError('multiplier must be greater than 0 and at most 100', 'multiplier');
    }
    const multiplier = new Decimal(input.multiplier).toDecimalPlaces(3).toFixed(3);
    if (input.upgradeBonus != null && (!Number.isInteger(input.upgradeBonus) || input.upgradeBonus < 0 || input.upgradeBonus > 1_000_000)) {
      throw new BadInputError('upgradeBonus must be 0 to 1000000 points', 'upgradeBonus');
    }
    const lifecycle = {
      ...(input.upgradeBonus != null ? { upgradeBonus: input.upgradeBonus } : {}),
      ...(input.keepByRecentSpend != null ? { keepByRecentSpend: input.keepByRecentSpend } : {}),
    };
    return transact(em, async ({ tx }) => {
      // One writer at a time: the ordering check below reads the whole set.
      await tx.getConnection().execute(`select pg_advisory_xact_lock(hashtext('tier-set'))`);
      const tiers = await tx.find(Tier, {});
      let tier = tiers.find((t) => t.level === input.level);
      if (!tier) {
        tier = tx.create(Tier, { level: input.level, name, minSpend: input.minSpend.toFixed(2), multiplier, benefits: input.benefits ?? {}, keepByRecentSpend: input.level >= 3, ...lifecycle });
        tiers.push(tier);
      } else {
        Object.assign(tier, { name, minSpend: input.minSpend.toFixed(2), multiplier }, lifecycle);
        if (input.benefits != null) tier.benefits = input.benefits;
      }
      const problem = tierProblems(tiers);
      if (problem) throw new BadInputError(problem, 'minSpend');
      return tier;
    }).finally(() => this.tierCache.invalidate());
  }
}
