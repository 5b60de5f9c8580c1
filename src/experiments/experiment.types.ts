import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { JSONScalar } from '../platform/graphql/scalars';
import { ExperimentStatus, type Experiment } from './experiment.entity';

registerEnumType(ExperimentStatus, { name: 'ExperimentStatus' });

@ObjectType('Variant')
export class VariantType {
  @Field(() => String) key!: string;
  @Field(() => Float) weight!: number;
  @Field(() => JSONScalar, { nullable: true }) payload!: unknown;
}

@ObjectType('Experiment')
export class ExperimentType {
  @Field(() => ID) id!: string;
  @Field(() => String) key!: string;
  @Field(() => String) name!: string;
  @Field(() => ExperimentStatus) status!: ExperimentStatus;
  @Field(() => [VariantType]) variants!: VariantType[];
  @Field(() => String, { description: 'The first variant is the control.' }) controlVariant!: string;
  @Field(() => String) primaryMetric!: string;
  @Field(() => Float, { description: '0..1 share of members that enter the experiment.' }) trafficShare!: number;
  @Field(() => Date, { nullable: true }) startedAt!: Date | null;
  @Field(() => Date, { nullable: true }) stoppedAt!: Date | null;
}

@InputType()
export class VariantInput {
  @Field(() => String) key!: string;
  @Field(() => Float) weight!: number;
  @Field(() => JSONScalar, { nullable: true }) payload?: unknown;
}

@InputType()
export class ExperimentInput {
  @Field(() => String) key!: string;
  @Field(() => String) name!: string;
  @Field(() => [VariantInput]) variants!: VariantInput[];
  @Field(() => String) primaryMetric!: string;
  @Field(() => Float, { nullable: true, defaultValue: 1 }) trafficShare?: number | null;
}

@ObjectType('VariantAssignment')
export class VariantAssignmentType {
  @Field(() => String) experimentKey!: string;
  @Field(() => String, { description: "The variant's key; the control's key when the member is outside the experiment." }) variant!: string;
  @Field(() => JSONScalar, { nullable: true }) payload!: unknown;
  @Field(() => Boolean) inExperiment!: boolean;
}

@ObjectType('VariantResult')
export class VariantResultType {
  @Field(() => String) variant!: string;
  @Field(() => Int) exposures!: number;
  @Field(() => Int) conversions!: number;
  @Field(() => Float) conversionRate!: number;
  @Field(() => Float, { nullable: true }) meanValue!: number | null;
  @Field(() => Float, { nullable: true, description: 'Relative lift of the conversion rate over the control.' }) lift!: number | null;
  @Field(() => Float, { nullable: true }) pValue!: number | null;
  @Field(() => Float, { nullable: true }) ciLow!: number | null;
  @Field(() => Float, { nullable: true }) ciHigh!: number | null;
}

@ObjectType('ExperimentResults')
export class ExperimentResultsType {
  @Field(() => ExperimentType) experiment!: ExperimentType;
  @Field(() => String) metric!: string;
  @Field(() => [VariantResultType]) variants!: VariantResultType[];
  @Field(() => Float, { nullable: true, description: 'p-value of the sample-ratio-mismatch test; small means assignment is broken.' }) srmPValue!: number | null;
  @Field(() => Boolean) significant!: boolean;
  @Field(() => String, { nullable: true }) winner!: string | null;
}

export function toExperimentType(e: Experiment): ExperimentType {
  return {
    id: e.id,
    key: e.key,
    name: e.name,
    status: e.status,
    variants: e.variants.map((v) => ({ key: v.key, weight: v.weight, payload: v.payload ?? null })),
    controlVariant: e.variants[0].key,
    primaryMetric: e.primaryMetric,
    trafficShare: e.trafficShare,
    startedAt: e.startedAt,
    stoppedAt: e.stoppedAt,
  };
}
