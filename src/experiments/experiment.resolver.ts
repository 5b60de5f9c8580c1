import { Arg, Authorized, Ctx, Float, Mutation, Query, Resolver } from 'type-graphql';
import type { Context } from '../context';
import { requireMemberId, Role } from '../auth/principal';
import { ExperimentInput, ExperimentResultsType, ExperimentType, toExperimentType, VariantAssignmentType } from './experiment.types';

@Resolver()
export class ExperimentResolver {
  @Authorized(Role.MEMBER)
  @Query(() => VariantAssignmentType, { description: "The signed-in member's variant; assignment is deterministic and sticky, and records an exposure." })
  async variant(@Arg('experimentKey', () => String) experimentKey: string, @Ctx() ctx: Context): Promise<VariantAssignmentType> {
    return ctx.services.experiments.variantFor(ctx.em, experimentKey, requireMemberId(ctx.principal));
  }

  @Authorized(Role.ADMIN)
  @Query(() => [ExperimentType])
  async experiments(@Ctx() ctx: Context): Promise<ExperimentType[]> {
    return (await ctx.services.experiments.list(ctx.em)).map(toExperimentType);
  }

  @Authorized(Role.ADMIN)
  @Query(() => ExperimentResultsType)
  async experimentResults(@Arg('key', () => String) key: string, @Arg('metric', () => String, { nullable: true }) metric: string | null, @Ctx() ctx: Context): Promise<ExperimentResultsType> {
    const { experiment, ...results } = await ctx.services.experiments.results(ctx.em, key, metric);
    return { ...results, experiment: toExperimentType(experiment) };
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => ExperimentType)
  async createExperiment(@Arg('input', () => ExperimentInput) input: ExperimentInput, @Ctx() ctx: Context): Promise<ExperimentType> {
    return toExperimentType(await ctx.services.experiments.create(ctx.em, input, ctx.principal.subject));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => ExperimentType)
  async startExperiment(@Arg('key', () => String) key: string, @Ctx() ctx: Context): Promise<ExperimentType> {
    return toExperimentType(await ctx.services.experiments.start(ctx.em, key));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => ExperimentType)
  async stopExperiment(@Arg('key', () => String) key: string, @Ctx() ctx: Context): Promise<ExperimentType> {
    return toExperimentType(await ctx.services.experiments.stop(ctx.em, key));
  }

  @Authorized(Role.MEMBER)
  @Mutation(() => Boolean, { description: "Records a metric event (e.g. a conversion) for the signed-in member's assigned variant." })
  async trackExperimentEvent(
    @Arg('experimentKey', () => String) experimentKey: string,
    @Arg('metric', () => String) metric: string,
    @Arg('value', () => Float, { nullable: true, defaultValue: 1 }) value: number | null,
    @Ctx() ctx: Context,
  ): Promise<boolean> {
    return ctx.services.experiments.track(ctx.em, experimentKey, requireMemberId(ctx.principal), metric, value ?? 1);
  }
}
