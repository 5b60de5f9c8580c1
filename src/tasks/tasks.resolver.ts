import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import type { Context } from '../context';
import { partnerScopeOf, requireMemberId, Role } from '../auth/principal';
import { currentMember } from '../members';
import { MemberType, toMemberType } from '../members/member.types';
import {
  ChallengeInput,
  ChallengeProgressType,
  ChallengeType,
  CheckInPayload,
  CheckInStatusType,
  ReferralType,
  TaskCompletionPayload,
  TaskInput,
  TaskProgressType,
  TaskType,
  toChallengeType,
  toTaskType,
} from './tasks.types';
import { RegisterMemberInput } from '../members/member.types';

@Resolver()
export class TasksResolver {
  @Authorized()
  @Query(() => [TaskProgressType])
  async tasks(@Ctx() ctx: Context): Promise<TaskProgressType[]> {
    const rows = await ctx.services.tasks.tasks(ctx.em, ctx.principal.memberId);
    return rows.map((r) => ({ ...r, task: toTaskType(r.task) }));
  }

  @Authorized(Role.MEMBER)
  @Mutation(() => TaskCompletionPayload, { description: 'A member claims a self-claimable task.' })
  async claimTask(@Arg('code', () => String) code: string, @Ctx() ctx: Context): Promise<TaskCompletionPayload> {
    const result = await ctx.services.tasks.claimTask(ctx.em, requireMemberId(ctx.principal), code);
    return { ...result, task: toTaskType(result.task) };
  }

  @Authorized(Role.PARTNER, Role.ADMIN)
  @Mutation(() => TaskCompletionPayload, { description: 'A partner reports that a member did a task (e.g. wrote a review), idempotent on reference.' })
  async recordTaskCompletion(
    @Arg('memberId', () => ID) memberId: string,
    @Arg('code', () => String) code: string,
    @Arg('reference', () => String) reference: string,
    @Ctx() ctx: Context,
  ): Promise<TaskCompletionPayload> {
    const result = await ctx.services.tasks.recordCompletion(ctx.em, memberId, code, reference, partnerScopeOf(ctx.principal));
    return { ...result, task: toTaskType(result.task) };
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => TaskType)
  async upsertTask(@Arg('input', () => TaskInput) input: TaskInput, @Ctx() ctx: Context): Promise<TaskType> {
    return toTaskType(await ctx.services.tasks.upsertTask(ctx.em, input));
  }

  @Authorized(Role.MEMBER)
  @Query(() => CheckInStatusType)
  async checkInStatus(@Ctx() ctx: Context): Promise<CheckInStatusType> {
    return ctx.services.checkIns.checkInStatus(ctx.em, requireMemberId(ctx.principal));
  }

  @Authorized(Role.MEMBER)
  @Mutation(() => CheckInPayload)
  async checkIn(@Ctx() ctx: Context): Promise<CheckInPayload> {
    return ctx.services.checkIns.checkIn(ctx.em, requireMemberId(ctx.principal));
  }

  @Authorized()
  @Query(() => [ChallengeProgressType])
  async challenges(@Ctx() ctx: Context): Promise<ChallengeProgressType[]> {
    const rows = await ctx.services.challenges.challenges(ctx.em, ctx.principal.memberId);
    return rows.map((r) => ({ ...r, challenge: toChallengeType(r.challenge) }));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => ChallengeType)
  async upsertChallenge(@Arg('input', () => ChallengeInput) input: ChallengeInput, @Ctx() ctx: Context): Promise<ChallengeType> {
    return toChallengeType(await ctx.services.challenges.upsertChallenge(ctx.em, input));
  }

  @Authorized(Role.MEMBER)
  @Query(() => [ReferralType])
  async referrals(@Ctx() ctx: Context): Promise<ReferralType[]> {
    const rows = await ctx.services.referrals.referrals(ctx.em, requireMemberId(ctx.principal));
    const invitees = await ctx.loaders.memberById.loadMany(rows.map((r) => r.invitee_id));
    return rows.flatMap((r, i) => {
      const invitee = invitees[i];
      if (!invitee || invitee instanceof Error) return [];
      return [{ invitee: toMemberType(invitee), pointsAwarded: r.inviter_points, createdAt: new Date(r.created_at) }];
    });
  }

  @Authorized(Role.ADMIN, Role.PARTNER)
  @Mutation(() => MemberType)
  async registerMember(@Arg('input', () => RegisterMemberInput) input: RegisterMemberInput, @Ctx() ctx: Context): Promise<MemberType> {
    return currentMember(ctx, (await ctx.services.referrals.register(ctx.em, input)).id);
  }
}
