import { randomUUID } from 'node:crypto';
import { Check, Entity, Enum, ManyToOne, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/core';
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
 * variant is asked for. Members outside the traffic share get none. Counted in
 * experiment_exposure_tally by the same statement.
 */
@Entity({ tableName: 'experiment_exposure' })
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

/** A metric event of an exposed member, under the variant of its exposure: the append-only log. */
@Entity({ tableName: 'experiment_event' })
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

/**
 * One row per member, experiment and metric the member has events of: the member converted. Its
 * primary key tells the event that makes a member convert (an insert) from the ones after it (an
 * update), race-free, so the member is counted once.
 */
@Entity({ tableName: 'experiment_conversion' })
export class ExperimentConversion {
  @ManyToOne(() => Experiment, { primary: true, mapToPk: true, fieldName: 'experiment_id', deleteRule: 'restrict', updateRule: 'restrict' })
  experimentId!: string;

  @PrimaryKey({ type: 'text' })
  metric!: string;

  @ManyToOne(() => Member, { primary: true, mapToPk: true, fieldName: 'member_id', deleteRule: 'restrict', updateRule: 'restrict' })
  memberId!: string;

  @Property({ type: 'text' })
  variant!: string;

  @Property({ type: 'integer' })
  events!: number;

  @Property({ type: 'double' })
  valueSum!: number;

  @Property({ type: 'timestamptz' })
  firstAt!: Date;

  @Property({ type: 'timestamptz' })
  lastAt!: Date;
}

/**
 * Running totals per variant, kept in the statement that records an exposure or an event, so
 * results read a few rows whatever the experiment's size (1M events: still a few rows). Each
 * variant's total is split over EXPERIMENT_TALLY_SHARDS rows, a member always writing the same
 * one: concurrent writers of different members rarely wait on one row lock.
 */
@Entity({ tableName: 'experiment_exposure_tally' })
export class ExperimentExposureTally {
  @ManyToOne(() => Experiment, { primary: true, mapToPk: true, fieldName: 'experiment_id', deleteRule: 'restrict', updateRule: 'restrict' })
  experimentId!: string;

  @PrimaryKey({ type: 'text' })
  variant!: string;

  @PrimaryKey({ type: 'smallint' })
  shard!: number;

  @Property({ type: 'integer' })
  exposures!: number;
}

/** Converting members and the sum of their values, per variant and metric (sharded as above). */
@Entity({ tableName: 'experiment_metric_tally' })
export class ExperimentMetricTally {
  @ManyToOne(() => Experiment, { primary: true, mapToPk: true, fieldName: 'experiment_id', deleteRule: 'restrict', updateRule: 'restrict' })
  experimentId!: string;

  @PrimaryKey({ type: 'text' })
  metric!: string;

  @PrimaryKey({ type: 'text' })
  variant!: string;

  @PrimaryKey({ type: 'smallint' })
  shard!: number;

  @Property({ type: 'integer' })
  members!: number;

  @Property({ type: 'double' })
  valueSum!: number;
}
