import { capWindow, expiryFor } from '../ledger/ledger.rules';
import type { EntryRow, LedgerWriter, LedgerWriters, LockedMember, RewardCaps } from '../ledger';
import type { Clock } from '../platform/clock';
import type { ProgramService } from '../program/program.service';

/** Where tasks, check-ins and challenges pay from (the referral pays under its own source). */
const REWARDS_SOURCE = 'system:rewards';

/**
 * How every reward of this folder is paid: a REWARD credit through the unit of work's ledger
 * writer, under the program's earning caps (issue 17), so `granted` may be less than asked, even 0.
 */
export class RewardService {
  constructor(private readonly deps: { timeZone: string; program: ProgramService }) {}

  /** A REWARD under the caps, valid for the program's validityDays. */
  async pay(w: LedgerWriter, member: LockedMember, points: number, reference: string, description: string): Promise<{ entry: EntryRow; granted: number }> {
    const settings = await this.deps.program.settings(w.tx);
    return w.cappedReward(member, { points, expiresAt: expiryFor(w.now, settings.validityDays), reference, source: REWARDS_SOURCE, description }, this.capsOf(settings, w.now));
  }

  /** The member's daily and monthly reward room at `now`, in the program's days. */
  capsOf(settings: { rewardDailyCap: number | null; rewardMonthlyCap: number | null }, now: Date): RewardCaps {
    return capWindow(now, this.deps.timeZone, settings.rewardDailyCap, settings.rewardMonthlyCap);
  }
}

/** What a use case that pays a reward in its own unit of work needs (tasks, check-in). */
export interface RewardingDeps {
  clock: Clock;
  timeZone: string;
  writers: LedgerWriters;
  rewards: RewardService;
}
