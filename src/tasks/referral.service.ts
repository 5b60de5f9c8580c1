import type { EntityManager } from '@mikro-orm/postgresql';
import { MemberStatus, type Member } from '../members';
import type { MemberService } from '../members/member.service';
import type { RegisterMemberInput } from '../members/member.types';
import { expiryFor } from '../ledger/ledger.rules';
import type { LedgerWriters, LockedMember } from '../ledger';
import type { ProgramService } from '../program/program.service';
import type { RewardService } from './reward.service';

/** Registration with an invite code, and the referral rewards it pays (once: the referral row is keyed by the invitee). */
export class ReferralService {
  constructor(
    private readonly deps: {
      writers: LedgerWriters;
      members: MemberService;
      program: ProgramService;
      rewards: RewardService;
    },
  ) {}

  /**
   * registerMember, with an invite code: the new member and the inviter are rewarded in the
   * registration's own transaction, once (the referral row is keyed by the invitee).
   */
  async register(em: EntityManager, input: RegisterMemberInput): Promise<Member> {
    return this.deps.members.register(em, input, async (uow, created) => {
      if (!created.referredBy) return;
      const tx = uow.tx;
      const settings = await this.deps.program.settings(tx);
      const w = this.deps.writers.of(uow);
      // Two members in one transaction: lock them in id order, as every other path would.
      const [first, second] = [created.id, created.referredBy].sort();
      const locked = new Map<string, LockedMember>();
      for (const id of [first, second]) locked.set(id, await w.lockMember(id));
      const inviter = locked.get(created.referredBy)!;
      const invitee = locked.get(created.id)!;
      const inviterPoints = inviter.status === MemberStatus.ACTIVE ? settings.referralInviterPoints : 0;
      const inviteePoints = settings.referralInviteePoints;
      const expiresAt = expiryFor(w.now, settings.validityDays);
      if (inviteePoints > 0) {
        await w.cappedReward(
          invitee,
          { points: inviteePoints, expiresAt, reference: `referral:${created.id}`, source: 'system:referral', description: '受邀注册奖励' },
          this.deps.rewards.capsOf(settings, w.now),
        );
      }
      if (inviterPoints > 0) {
        await w.cappedReward(
          inviter,
          { points: inviterPoints, expiresAt, reference: `referral:${created.id}`, source: 'system:referral', description: `邀请好友「${created.nickname}」奖励` },
          this.deps.rewards.capsOf(settings, w.now),
        );
      }
      await tx.execute('insert into referral (invitee_id, inviter_id, inviter_points, invitee_points, created_at) values (?, ?, ?, ?, ?)', [
        created.id,
        inviter.id,
        inviterPoints,
        inviteePoints,
        w.now,
      ]);
    });
  }

  async referrals(em: EntityManager, inviterId: string) {
    return em.execute<{ invitee_id: string; inviter_points: number; created_at: string }[]>(
      'select invitee_id, inviter_points, created_at from referral where inviter_id = ? order by created_at desc, invitee_id',
      [inviterId],
    );
  }
}
