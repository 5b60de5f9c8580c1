import { Arg, Authorized, Ctx, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { Context } from '../context';
import { requireMemberId, Role } from '../auth/principal';
import { ComplianceReportType, HealthCheckType, ExpiryWarningType, ProgramSettingsInput, ProgramSettingsType, toSettingsType } from './program.types';
import { EXPIRY_WARNING_TOPIC, type ExpiryWarningPayload } from './program.topics';

@Resolver()
export class ProgramResolver {
  @Authorized(Role.ADMIN)
  @Query(() => ProgramSettingsType)
  async programSettings(@Ctx() ctx: Context): Promise<ProgramSettingsType> {
    return toSettingsType(await ctx.services.program.settings(ctx.em));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => ProgramSettingsType)
  async updateProgramSettings(@Arg('input', () => ProgramSettingsInput) input: ProgramSettingsInput, @Ctx() ctx: Context): Promise<ProgramSettingsType> {
    return toSettingsType(await ctx.services.program.update(ctx.em, `${ctx.principal.role}:${ctx.principal.subject}`, input));
  }

  @Authorized(Role.ADMIN)
  @Query(() => ComplianceReportType)
  async complianceReport(@Ctx() ctx: Context): Promise<ComplianceReportType> {
    return ctx.services.program.compliance(ctx.em);
  }

  @Authorized(Role.ADMIN)
  @Query(() => [HealthCheckType], { description: "Admins: the seeds' business thresholds, each with its current value." })
  async programHealth(@Ctx() ctx: Context): Promise<HealthCheckType[]> {
    return ctx.services.health.checks(ctx.em);
  }

  @Subscription(() => ExpiryWarningType, {
    description: "Warnings that the signed-in member's points expire soon.",
    topics: EXPIRY_WARNING_TOPIC,
    topicId: ({ context }: { context: Context }) => requireMemberId(context.principal),
  })
  pointsExpiring(@Root() warning: ExpiryWarningPayload): ExpiryWarningType {
    return { ...warning, expiresAt: new Date(warning.expiresAt) };
  }
}
