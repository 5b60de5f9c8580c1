import type { EntityManager } from '@mikro-orm/postgresql';
import { transact, type UnitOfWork } from '../platform/db/unit-of-work';
import { VersionedCache } from '../platform/db/config-version';
import type { PubSub } from 'type-graphql';
import { LockMode } from '@mikro-orm/core';
import type { Clock } from '../platform/clock';
import { BadInputError, ConflictError, NotFoundError } from '../platform/errors';
import { uniqueViolation } from '../platform/db/orm';
import { isUuid } from '../platform/ids';
import { DAY_MS, localParts } from '../platform/time';
import { heldTierOf } from '../members/member.rules';
import type { TierView } from '../members/tier.cache';
import type { MemberService } from '../members/member.service';
import { MemberNotFoundError } from '../members';
import { NotificationKind } from '../notifications';
import type { NewNotification, NotificationService } from '../notifications/notification.service';
import { protectionTexts, tierKeepGapText, tierKeptText, tierLoweredText, tierTitles, tierUpgradedTexts } from '../notifications/notification.texts';
import { LedgerEntryType } from '../ledger';
import { daysUntil, expiryFor } from '../ledger/ledger.rules';
import { TIER_BONUS_SOURCE, type LedgerWriter, type LockedMember, type PurchasePosted } from '../ledger';
import type { ProgramService } from '../program/program.service';
import { TierProtection, TierProtectionStatus } from './lifecycle.entity';
import { addMonths, evaluate, keepCheck, tierStatus, upgradeTo, type HeldTier, type LifecycleSettings, type MemberSpend, type TierDecision, type TierStatusValue } from './tier.rules';
import { TIER_CHANGED_TOPIC, tierChangedPayload, type TierChangedPayload } from './lifecycle.topics';

const REASON_MAX = 500;

/** A member's tier state and spend, as one query reads them (for one member or a job's batch). */
interface MemberTierRow {
  id: string;
  language: string;
  tier_level: number;
  tier_valid_until: Date | null;
  tier_grace_until: Date | null;
  tier_grace_warned: boolean;
  tier_protected_until: Date | null;
  lifetime: string;
  spend_base: string;
  spend12: string;
  spend90: string;
}

/** Spend windows count posted purchases by when they happened, less what was refunded of them. */
const MEMBER_TIER_SQL = `
  select m.id, m.language, m.tier_level, m.tier_valid_until, m.tier_grace_until, m.tier_grace_warned, m.tier_protected_until,
         m.total_spend::text as lifetime, m.tier_spend_base::text as spend_base,
         coalesce(s.spend12, 0)::text as spend12, coalesce(s.spend90, 0)::text as spend90
  from member m
  left join lateral (
    select sum(p.amount - p.refunded_amount) as spend12,
           sum(p.amount - p.refunded_amount) filter (where p.occurred_at > ?) as spend90
    from purchase p join ledger_entry e on e.id = p.entry_id and (e.status = 'POSTED' or p.points_capped_from is not null)
    where p.member_id = m.id and p.occurred_at > ?
  ) s on true
  where m.id in (select jsonb_array_elements_text(?::jsonb)::uuid)`;

const dateOf = (value: Date | string | null) => (value == null ? null : new Date(value));

function heldOf(row: MemberTierRow): HeldTier {
  return {
    level: row.tier_level,
    validUntil: dateOf(row.tier_valid_until),
    graceUntil: dateOf(row.tier_grace_until),
    graceWarned: row.tier_grace_warned,
    protectedUntil: dateOf(row.tier_protected_until),
  };
}

const spendOf = (row: MemberTierRow): MemberSpend => ({ lifetime: row.lifetime, spendBase: row.spend_base, last12Months: row.spend12, last90Days: row.spend90 });

export interface EvaluationResult {
  members: number;
  kept: number;
  graced: number;
  reminded: number;
  lowered: number;
}

/**
 * The tier year (issue 17): upgrades (with their one-off bonus) inside the purchase's own
 * transaction, through the ledger's purchase hook; keeping, grace and lowering by the daily
 * evaluation; protection applications and their review. Every change records a TIER_CHANGE
 * notification in its transaction and publishes `tierChanged` after commit.
 */
export class TierLifecycleService {
  constructor(
    private readonly deps: {
      clock: Clock;
      timeZone: string;
      settings: LifecycleSettings;
      pubSub: PubSub;
      members: MemberService;
      program: ProgramService;
      notifications: NotificationService;
    },
  ) {}

  /** The tiers a purchase is checked against, per configuration version (platform/db/config-version.ts). */
  private readonly tiers = new VersionedCache<TierView[]>();

  private async rows(em: EntityManager, memberIds: string[], now: Date): Promise<MemberTierRow[]> {
    return em.execute<MemberTierRow[]>(MEMBER_TIER_SQL, [new Date(now.getTime() - 90 * DAY_MS), addMonths(now, -12), JSON.stringify(memberIds)]);
  }

  /** Member.tierStatus. */
  async status(em: EntityManager, memberId: string): Promise<TierStatusValue<TierView>> {
    const now = this.deps.clock.now();
    const [row] = isUuid(memberId) ? await this.rows(em, [memberId], now) : [];
    if (!row) throw new MemberNotFoundError(memberId);
    return tierStatus(await this.deps.members.tierCache.get(em), heldOf(row), spendOf(row), now);
  }

  /** tierChanged for each payload, queued in the unit of work's outbox: published after commit only. */
  private publishAfterCommit(uow: UnitOfWork, payloads: TierChangedPayload[]) {
    uow.afterCommit(() => {
      for (const payload of payloads) this.deps.pubSub.publish(TIER_CHANGED_TOPIC, payload, payload.memberId);
    });
  }

  /**
   * Listens to the ledger's "purchase posted" (wired in src/app.ts), inside the purchase's own
   * transaction: a posted purchase may upgrade the member at once (and pay each newly reached
   * tier's bonus once), or keep a tier that is in grace.
   */
  async purchasePosted({ uow, writer: w, member }: PurchasePosted): Promise<void> {
    // Most purchases change nothing: the spend windows are summed only when they matter. The member
    // lock read the spend base and grace; the tiers are this configuration version's (issue 14).
    const tiers = await this.tiers.get(w.configVersion, () => this.deps.members.tierValues(w.tx));
    if (!member.tierInGrace && !upgradeTo(tiers, member.tierLevel, { lifetime: member.totalSpend, spendBase: member.tierSpendBase })) return;
    const [row] = await this.rows(w.tx, [member.id], w.now);
    const held = heldOf(row);
    const spend = { ...spendOf(row), lifetime: member.totalSpend };
    const notes: NewNotification[] = [];
    const upgrade = upgradeTo(tiers, held.level, spend);
    if (upgrade) {
      const validUntil = addMonths(w.now, this.deps.settings.validityMonths);
      await w.tx.execute('update member set tier_level = ?, tier_valid_until = ?, tier_grace_until = null, tier_grace_warned = false where id = ?', [upgrade.level, validUntil, member.id]);
      member.tierLevel = upgrade.level;
      const texts = tierUpgradedTexts(upgrade.name, Number(upgrade.multiplier), row.language);
      notes.push({ memberId: member.id, kind: NotificationKind.TIER_CHANGE, ...texts, data: { fromLevel: held.level, toLevel: upgrade.level } });
      await this.payUpgradeBonuses(w, member, tiers, held.level, upgrade.level);
      Object.assign(held, { level: upgrade.level, validUntil, graceUntil: null, graceWarned: false });
    } else if (held.graceUntil) {
      const keep = keepCheck(heldTierOf(tiers, held.level), spend);
      if (!keep.kept) return;
      const validUntil = addMonths(w.now, this.deps.settings.validityMonths);
      await w.tx.execute('update member set tier_valid_until = ?, tier_grace_until = null, tier_grace_warned = false where id = ?', [validUntil, member.id]);
      notes.push({
        memberId: member.id,
        kind: NotificationKind.TIER_CHANGE,
        title: tierTitles(row.language).kept,
        body: tierKeptText(row.language),
        data: { kept: keep.by, validUntil: validUntil.toISOString() },
      });
      Object.assign(held, { validUntil, graceUntil: null, graceWarned: false });
    } else {
      return;
    }
    await this.deps.notifications.record(w.tx, w.now, notes);
    this.publishAfterCommit(uow, [tierChangedPayload(member.id, tierStatus(tiers, held, spend, w.now))]);
  }

  /** The seed's 升级奖励: each tier passed for the first time pays its bonus once (the primary key claims it). */
  private async payUpgradeBonuses(w: LedgerWriter, member: LockedMember, tiers: TierView[], fromLevel: number, toLevel: number) {
    const due = tiers.filter((t) => t.level > fromLevel && t.level <= toLevel && t.upgradeBonus > 0);
    if (due.length === 0) return;
    const settings = await this.deps.program.settings(w.tx);
    for (const tier of due) {
      const [claimed] = await w.tx.execute<{ level: number }[]>('insert into tier_reward (member_id, level, rewarded_at) values (?, ?, ?) on conflict do nothing returning level', [
        member.id,
        tier.level,
        w.now,
      ]);
      if (!claimed) continue;
      const entry = await w.credit(member, {
        type: LedgerEntryType.REWARD,
        points: tier.upgradeBonus,
        expiresAt: expiryFor(w.now, settings.validityDays),
        reference: `tier:${tier.level}`,
        source: TIER_BONUS_SOURCE,
        description: `升级奖励: ${tier.name}`,
        idempotencyKey: `tier-bonus:${member.id}:${tier.level}`,
      });
      await w.tx.execute('update tier_reward set entry_id = ? where member_id = ? and level = ?', [entry.id, member.id, tier.level]);
    }
  }

  /**
   * Whether any member is due, from the two partial indexes only: the job runs every
   * JOBS_INTERVAL_MS and finds nothing to do most of the time, so that case must not walk `member`.
   */
  async anyDue(em: EntityManager): Promise<boolean> {
    const now = this.deps.clock.now();
    const [row] = await em.execute<{ due: boolean }[]>(
      `select exists (select 1 from member where tier_grace_until is null and tier_valid_until <= ?)
           or exists (select 1 from member where tier_grace_until <= ? and (not tier_grace_warned or tier_grace_until <= ?)) as due`,
      [now, new Date(now.getTime() + 30 * DAY_MS), now],
    );
    return row.due;
  }

  /**
   * One batch of the daily evaluation: members whose tier year or grace is due, claimed with
   * FOR UPDATE SKIP LOCKED (another instance takes the others), decided by the rules, written,
   * notified; tierChanged is published after commit. Returns the last id seen (the keyset cursor).
   */
  async evaluateBatch(em: EntityManager, after: string, batchSize: number, result: EvaluationResult): Promise<string | null> {
    const now = this.deps.clock.now();
    const tiers = await this.deps.members.tierValues(em);
    let last: string | null = null;
    await transact(em, async (uow) => {
      const tx = uow.tx;
      const published: TierChangedPayload[] = [];
      const claimed = await tx.execute<{ id: string }[]>(
        `select id from member
         where id > ? and ((tier_grace_until is null and tier_valid_until <= ?)
                           or (tier_grace_until is not null and (tier_grace_until <= ? or (not tier_grace_warned and tier_grace_until <= ?))))
         order by id limit ? for update skip locked`,
        [after, now, now, new Date(now.getTime() + 30 * DAY_MS), batchSize],
      );
      if (claimed.length === 0) return;
      last = claimed[claimed.length - 1].id;
      const rows = await this.rows(
        tx,
        claimed.map((c) => c.id),
        now,
      );
      const updates: { id: string; level: number; valid_until: string | null; grace_until: string | null; grace_warned: boolean; spend_base: string }[] = [];
      const notes: NewNotification[] = [];
      for (const row of rows) {
        const held = heldOf(row);
        const spend = spendOf(row);
        const decision = evaluate(tiers, held, spend, now, this.deps.settings);
        if (!decision) continue;
        const next = this.apply(held, spend, decision);
        result.members += 1;
        updates.push({
          id: row.id,
          level: next.held.level,
          valid_until: next.held.validUntil?.toISOString() ?? null,
          grace_until: next.held.graceUntil?.toISOString() ?? null,
          grace_warned: next.held.graceWarned,
          spend_base: next.spendBase,
        });
        notes.push(this.noteFor(tiers, row, held, decision, now));
        const counter = ({ KEEP: 'kept', GRACE: 'graced', GRACE_ENDING: 'reminded', LOWER: 'lowered' } as const)[decision.kind];
        result[counter] += 1;
        if (decision.kind !== 'GRACE_ENDING') published.push(tierChangedPayload(row.id, tierStatus(tiers, next.held, { ...spend, spendBase: next.spendBase }, now)));
      }
      if (updates.length) {
        await tx.execute(
          `update member m set tier_level = u.level, tier_valid_until = u.valid_until, tier_grace_until = u.grace_until,
                  tier_grace_warned = u.grace_warned, tier_spend_base = u.spend_base, updated_at = ?
           from jsonb_to_recordset(?::jsonb) as u(id uuid, level int, valid_until timestamptz, grace_until timestamptz, grace_warned boolean, spend_base numeric)
           where m.id = u.id`,
          [now, JSON.stringify(updates)],
        );
      }
      await this.deps.notifications.record(tx, now, notes);
      this.publishAfterCommit(uow, published);
    });
    return last;
  }

  private apply(held: HeldTier, spend: MemberSpend, decision: TierDecision): { held: HeldTier; spendBase: string } {
    switch (decision.kind) {
      case 'KEEP':
        return { held: { ...held, validUntil: decision.validUntil, graceUntil: null, graceWarned: false }, spendBase: spend.spendBase };
      case 'GRACE':
        return { held: { ...held, graceUntil: decision.graceUntil, graceWarned: false }, spendBase: spend.spendBase };
      case 'GRACE_ENDING':
        return { held: { ...held, graceWarned: true }, spendBase: spend.spendBase };
      case 'LOWER':
        return { held: { ...held, level: decision.toLevel, validUntil: decision.validUntil, graceUntil: null, graceWarned: false }, spendBase: decision.spendBase };
    }
  }

  private noteFor(tiers: TierView[], row: MemberTierRow, held: HeldTier, decision: TierDecision, now: Date): NewNotification {
    const titles = tierTitles(row.language);
    const base = { memberId: row.id, kind: NotificationKind.TIER_CHANGE };
    switch (decision.kind) {
      case 'KEEP':
        return { ...base, title: titles.kept, body: tierKeptText(row.language), data: { kept: decision.by, validUntil: decision.validUntil.toISOString() } };
      case 'GRACE':
      case 'GRACE_ENDING':
        return {
          ...base,
          title: decision.kind === 'GRACE' ? titles.grace : titles.graceEnding,
          body: tierKeepGapText(decision.gap.toFixed(2), daysUntil(now, decision.graceUntil), row.language),
          data: { graceUntil: decision.graceUntil.toISOString(), keepSpend: decision.gap.toFixed(2) },
        };
      case 'LOWER': {
        const to = heldTierOf(tiers, decision.toLevel);
        return { ...base, title: titles.lowered, body: tierLoweredText(to.name, row.language), data: { fromLevel: held.level, toLevel: decision.toLevel } };
      }
    }
  }

  // ── special protection (the seed's 特殊保级, reviewed by people) ──

  /** Newest first. */
  async protections(em: EntityManager, memberId: string): Promise<TierProtection[]> {
    return em.find(TierProtection, { memberId }, { orderBy: { createdAt: 'desc', id: 'desc' } });
  }

  /** Once per calendar year (program time zone); a second application that year is CONFLICT. */
  async applyProtection(em: EntityManager, memberId: string, reasonInput: string): Promise<TierProtection> {
    const reason = reasonInput.trim();
    if (reason.length === 0 || reason.length > REASON_MAX) throw new BadInputError(`reason must be 1 to ${REASON_MAX} characters`, 'reason');
    const now = this.deps.clock.now();
    try {
      return await transact(em.fork(), async ({ tx }) => {
        const [member] = await tx.execute<{ tier_level: number; language: string }[]>('select tier_level, language from member where id = ?', [memberId]);
        if (!member) throw new MemberNotFoundError(memberId);
        const tiers = await this.deps.members.tierValues(tx);
        if (heldTierOf(tiers, member.tier_level).level === tiers[0].level) throw new ConflictError('The lowest tier needs no protection', { field: 'reason' });
        const application = tx.create(TierProtection, {
          memberId,
          year: localParts(now, this.deps.timeZone).year,
          tierLevel: member.tier_level,
          status: TierProtectionStatus.PENDING,
          reason,
          createdAt: now,
        });
        await tx.flush();
        await this.deps.notifications.record(tx, now, [
          {
            memberId,
            kind: NotificationKind.TIER_CHANGE,
            title: tierTitles(member.language).protection,
            body: protectionTexts(member.language).submitted,
            data: { protectionId: application.id, status: 'PENDING' },
          },
        ]);
        return application;
      });
    } catch (error) {
      if (uniqueViolation(error) === 'tier_protection_member_year_unique') throw new ConflictError('本年度已申请过特殊保级 (one tier protection application per calendar year)');
      throw error;
    }
  }

  /**
   * An admin's decision, once: approving keeps the tier applied for (restoring it if it was
   * lowered meanwhile) for 12 more months from the later of now and the current year's end.
   * Repeating the same decision returns it; the opposite one is CONFLICT.
   */
  async reviewProtection(em: EntityManager, id: string, approve: boolean, noteInput: string | null | undefined, reviewer: string): Promise<TierProtection> {
    const note = noteInput?.trim() || null;
    if (note && note.length > REASON_MAX) throw new BadInputError(`note must be at most ${REASON_MAX} characters`, 'note');
    if (!isUuid(id)) throw new NotFoundError('Tier protection application', id);
    const status = approve ? TierProtectionStatus.APPROVED : TierProtectionStatus.REJECTED;
    return transact(em.fork(), async (uow) => {
      const tx = uow.tx;
      const [located] = await tx.execute<{ member_id: string }[]>('select member_id from tier_protection where id = ?', [id]);
      if (!located) throw new NotFoundError('Tier protection application', id);
      const now = this.deps.clock.now();
      // The member first, then the application: the ledger's lock order (member row first).
      const [row] = await this.rowsForUpdate(tx, located.member_id, now);
      const found = await tx.findOneOrFail(TierProtection, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (found.status !== TierProtectionStatus.PENDING) {
        if (found.status === status) return found;
        throw new ConflictError(`This application was already ${found.status.toLowerCase()}`);
      }
      Object.assign(found, { status, note, reviewedAt: now, reviewedBy: reviewer });
      const texts = protectionTexts(row.language);
      const notes: NewNotification[] = [
        {
          memberId: found.memberId,
          kind: NotificationKind.TIER_CHANGE,
          title: tierTitles(row.language).protection,
          body: approve ? texts.approved : texts.rejected,
          data: { protectionId: found.id, status },
        },
      ];
      if (approve) {
        const tiers = await this.deps.members.tierValues(tx);
        const held = heldOf(row);
        const from = held.validUntil && held.validUntil > now ? held.validUntil : now;
        const validUntil = addMonths(from, this.deps.settings.validityMonths);
        const level = Math.max(held.level, found.tierLevel);
        await tx.execute('update member set tier_level = ?, tier_valid_until = ?, tier_protected_until = ?, tier_grace_until = null, tier_grace_warned = false, updated_at = ? where id = ?', [
          level,
          validUntil,
          validUntil,
          now,
          found.memberId,
        ]);
        const next: HeldTier = { level, validUntil, graceUntil: null, graceWarned: false, protectedUntil: validUntil };
        this.publishAfterCommit(uow, [tierChangedPayload(found.memberId, tierStatus(tiers, next, spendOf(row), now))]);
      }
      await this.deps.notifications.record(tx, now, notes);
      return found;
    });
  }

  private async rowsForUpdate(tx: EntityManager, memberId: string, now: Date): Promise<MemberTierRow[]> {
    await tx.execute('select id from member where id = ? for update', [memberId]);
    return this.rows(tx, [memberId], now);
  }
}
