import type { EntityManager } from '@mikro-orm/postgresql';
import { Decimal } from 'decimal.js';
import type { Clock } from '../platform/clock';
import { BadInputError, NotFoundError } from '../platform/errors';
import { isUuid } from '../platform/ids';
import { EarningRule } from './earning-rule.entity';
import type { EarningRuleLike } from './ledger.rules';
import { transact } from '../platform/db/unit-of-work';
import { isSegmentKey, SEGMENT_KEYS } from '../members/segment.rules';

export interface EarningRuleFields {
  name: string;
  multiplier: number;
  bonusPoints: number;
  startsAt?: Date | null;
  endsAt?: Date | null;
  weekdays: number[];
  categories: string[];
  firstOrderOnly: boolean;
  minTierLevel?: number | null;
  segments?: string[] | null;
  active: boolean;
}

function validated(input: EarningRuleFields) {
  const name = input.name.trim();
  if (!name || name.length > 64) throw new BadInputError('name must be 1 to 64 characters', 'name');
  if (!Number.isFinite(input.multiplier) || input.multiplier <= 0 || input.multiplier > 100) {
    throw new BadInputError('multiplier must be greater than 0 and at most 100', 'multiplier');
  }
  if (!Number.isInteger(input.bonusPoints) || input.bonusPoints < 0 || input.bonusPoints > 1_000_000) {
    throw new BadInputError('bonusPoints must be 0 to 1000000', 'bonusPoints');
  }
  const weekdays = [...new Set(input.weekdays ?? [])].sort();
  if (weekdays.some((d) => !Number.isInteger(d) || d < 1 || d > 7)) throw new BadInputError('weekdays are ISO weekdays 1 (Monday) to 7 (Sunday)', 'weekdays');
  const categories = [...new Set((input.categories ?? []).map((c) => c.trim()))];
  if (categories.some((c) => !c || c.length > 64)) throw new BadInputError('categories must be 1 to 64 characters each', 'categories');
  if (input.startsAt && input.endsAt && input.endsAt <= input.startsAt) throw new BadInputError('endsAt must be after startsAt', 'endsAt');
  if (input.minTierLevel != null && (!Number.isInteger(input.minTierLevel) || input.minTierLevel < 1)) {
    throw new BadInputError('minTierLevel must be a tier level (1 or more)', 'minTierLevel');
  }
  const segments = [...new Set(input.segments ?? [])];
  const unknown = segments.find((s) => !isSegmentKey(s));
  if (unknown !== undefined) throw new BadInputError(`segments: "${unknown}" is not a segment (${SEGMENT_KEYS.join(', ')})`, 'segments');
  return {
    name,
    multiplier: new Decimal(input.multiplier).toDecimalPlaces(3).toFixed(3),
    bonusPoints: input.bonusPoints,
    startsAt: input.startsAt ?? null,
    endsAt: input.endsAt ?? null,
    weekdays,
    categories,
    firstOrderOnly: input.firstOrderOnly ?? false,
    minTierLevel: input.minTierLevel ?? null,
    segments,
    active: input.active ?? true,
  };
}

export class EarningRuleService {
  constructor(private readonly clock: Clock) {}

  /** Active rules as plain values, for the earning formula (read on every earning, no entities). */
  async activeRules(em: EntityManager): Promise<EarningRuleLike[]> {
    const rows = await em.execute<(Omit<EarningRuleLike, 'startsAt' | 'endsAt'> & { startsAt: string | null; endsAt: string | null })[]>(
      `select multiplier::text as multiplier, bonus_points as "bonusPoints", starts_at as "startsAt", ends_at as "endsAt", weekdays, categories,
              first_order_only as "firstOrderOnly", min_tier_level as "minTierLevel", segments, active
       from earning_rule where active`,
    );
    return rows.map((r) => ({ ...r, startsAt: r.startsAt ? new Date(r.startsAt) : null, endsAt: r.endsAt ? new Date(r.endsAt) : null }));
  }

  async list(em: EntityManager): Promise<EarningRule[]> {
    return em.find(EarningRule, {}, { orderBy: { createdAt: 'asc', id: 'asc' } });
  }

  async create(em: EntityManager, input: EarningRuleFields): Promise<EarningRule> {
    const fields = validated(input);
    return transact(em, async ({ tx }) => {
      const now = this.clock.now();
      return tx.create(EarningRule, { ...fields, createdAt: now, updatedAt: now });
    });
  }

  /** A rule is replaced whole (the contract's update takes a full EarningRuleInput). */
  async update(em: EntityManager, id: string, input: EarningRuleFields): Promise<EarningRule> {
    const fields = validated(input);
    return transact(em, async ({ tx }) => {
      const rule = isUuid(id) ? await tx.findOne(EarningRule, { id }) : null;
      if (!rule) throw new NotFoundError('Earning rule', id);
      return Object.assign(rule, fields, { updatedAt: this.clock.now() });
    });
  }
}
