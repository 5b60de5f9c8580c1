import { randomUUID } from 'node:crypto';
import { Check, Entity, Enum, Index, ManyToOne, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { Member } from '../members/member.entity';

export enum ExperimentStatus {
  DRAFT = 'DRAFT',
  RUNNING = 'RUNNING',
  STOPPED = 'STOPPED',
}

export interface VariantDefinition {
  key: string;
  /** Any positive number; the split is each weight over their sum. */
  weight: number;
  payload: unknown;
}

/**
 * An A/B experiment. Its variants, weights and traffic share never change after creation:
 * assignment is a pure function of them, so changing them would move members between variants
 * (an operator creates a new experiment instead). DRAFT → RUNNING → STOPPED, once each.
 */
@Entity({ tableName: 'experiment' })
@Check({ name: 'experiment_traffic_share_check', expression: '((traffic_share >= (0)::double precision) AND (traffic_share <= (1)::double precision))' })
export class Experiment {
  [OptionalProps]?: 'id' | 'startedAt' | 'stoppedAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Unique({ name: 'experiment_key_unique' })
  @Property({ type: 'text' })
  key!: string;

  @Property({ type: 'text' })
  name!: string;

  @Enum({ items: () => ExperimentStatus, type: 'text' })
  status!: ExperimentStatus;

  /** In order; the first is the control. */
  @Property({ type: 'jsonb' })
  variants!: VariantDefinition[];

  @Property({ type: 'text' })
  primaryMetric!: string;

  @Property({ type: 'double' })
  trafficShare!: number;

  @Property({ type: 'timestamptz' })
  createdAt!: Date;

  @Property({ type: 'text' })
  createdBy!: string;

  @Property({ type: 'timestamptz', nullable: true })
  startedAt: Date | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  stoppedAt: Date | null = null;
}

/**
 * A member entered the experiment and saw its variant: one row per member and experiment, made
 * once by INSERT … ON CONFLICT DO NOTHING on the primary key, however often and concurrently the
 * variant is asked for. Members outside the traffic share get none.
 */
@Entity({ tableName: 'experiment_exposure' })
@Index({ name: 'experiment_exposure_variant_idx', properties: ['experimentId', 'variant'] })
export class ExperimentExposure {
  @ManyToOne(() => Experiment, { primary: true, mapToPk: true, fieldName: 'experiment_id', deleteRule: 'restrict', updateRule: 'restrict' })
  experimentId!: string;

  @ManyToOne(() => Member, { primary: true, mapToPk: true, fieldName: 'member_id', deleteRule: 'restrict', updateRule: 'restrict' })
  memberId!: string;

  @Property({ type: 'text' })
  variant!: string;

  @Property({ type: 'timestamptz' })
  exposedAt!: Date;
}

/**
 * A metric event of an exposed member, under the variant of its exposure (append-only). The
 * results read it through `experiment_event_results_idx` only (an index-only scan in the order
 * the aggregate groups by).
 */
@Entity({ tableName: 'experiment_event' })
@Index({ name: 'experiment_event_results_idx', expression: 'create index "experiment_event_results_idx" on "experiment_event" ("experiment_id", "metric", "variant", "member_id") include ("value")' })
export class ExperimentEvent {
  [OptionalProps]?: 'id';

  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string;

  @ManyToOne(() => Experiment, { mapToPk: true, fieldName: 'experiment_id', deleteRule: 'restrict', updateRule: 'restrict' })
  experimentId!: string;

  @ManyToOne(() => Member, { mapToPk: true, fieldName: 'member_id', deleteRule: 'restrict', updateRule: 'restrict' })
  memberId!: string;

  @Property({ type: 'text' })
  variant!: string;

  @Property({ type: 'text' })
  metric!: string;

  @Property({ type: 'double' })
  value!: number;

  @Property({ type: 'timestamptz' })
  createdAt!: Date;
}
