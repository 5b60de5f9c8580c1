import { randomUUID } from 'node:crypto';
import { Check, Entity, Enum, Index, ManyToOne, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { Member } from '../members/member.entity';
import { LedgerEntry } from '../ledger/ledger.entity';

export enum TaskFrequency {
  DAILY = 'DAILY',
  WEEKLY = 'WEEKLY',
  ONCE = 'ONCE',
}

export enum ChallengeMetric {
  SPEND = 'SPEND',
  ORDERS = 'ORDERS',
  CHECK_INS = 'CHECK_INS',
  TASKS = 'TASKS',
}

@Entity({ tableName: 'task' })
@Check({ name: 'task_points_check', expression: 'points > 0' })
export class Task {
  [OptionalProps]?: 'id';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Unique({ name: 'task_code_unique' })
  @Property({ type: 'text' })
  code!: string;

  @Property({ type: 'text' })
  name!: string;

  @Property({ type: 'text' })
  description!: string;

  @Property({ type: 'integer' })
  points!: number;

  @Enum({ items: () => TaskFrequency, type: 'text' })
  frequency!: TaskFrequency;

  @Property({ type: 'boolean' })
  selfClaimable!: boolean;

  @Property({ type: 'boolean' })
  active!: boolean;

  @Property({ type: 'timestamptz' })
  createdAt!: Date;

  @Property({ type: 'timestamptz' })
  updatedAt!: Date;
}

/** One completion per member, task and period (day, ISO week, or ONCE): the database forbids a second. */
@Entity({ tableName: 'task_completion' })
@Unique({ name: 'task_completion_period_unique', properties: ['memberId', 'taskId', 'periodKey'] })
@Unique({ name: 'task_completion_reference_unique', properties: ['taskId', 'partnerId', 'reference'] })
export class TaskCompletion {
  [OptionalProps]?: 'id' | 'reference' | 'partnerId';

  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string;

  @ManyToOne(() => Member, { mapToPk: true, fieldName: 'member_id', deleteRule: 'restrict', updateRule: 'restrict' })
  memberId!: string;

  @ManyToOne(() => Task, { mapToPk: true, fieldName: 'task_id', deleteRule: 'restrict', updateRule: 'restrict' })
  taskId!: string;

  @Property({ type: 'text' })
  periodKey!: string;

  /** Who reported it: the partner's id, '' for admins and members; references are unique per partner. */
  @Property({ type: 'text', default: '' })
  partnerId: string = '';

  /** The partner's reference (recordTaskCompletion is idempotent on it). */
  @Property({ type: 'text', nullable: true })
  reference: string | null = null;

  @ManyToOne(() => LedgerEntry, { mapToPk: true, fieldName: 'entry_id', deleteRule: 'restrict', updateRule: 'restrict' })
  entryId!: string;

  @Property({ type: 'timestamptz' })
  completedAt!: Date;
}

/** A member's check-in on a local day; the primary key makes a second one that day impossible. */
@Entity({ tableName: 'check_in' })
export class CheckIn {
  @ManyToOne(() => Member, { primary: true, mapToPk: true, fieldName: 'member_id', deleteRule: 'restrict', updateRule: 'restrict' })
  memberId!: string;

  /** Local date, YYYY-MM-DD. */
  @PrimaryKey({ type: 'text' })
  day!: string;

  /** Consecutive days including this one. */
  @Property({ type: 'integer' })
  streak!: number;

  @Property({ type: 'integer' })
  points!: number;

  @ManyToOne(() => LedgerEntry, { mapToPk: true, fieldName: 'entry_id', deleteRule: 'restrict', updateRule: 'restrict' })
  entryId!: string;

  @Property({ type: 'timestamptz' })
  createdAt!: Date;
}

@Entity({ tableName: 'challenge' })
@Check({ name: 'challenge_values_check', expression: 'target > 0 and reward_points > 0 and ends_at > starts_at' })
export class Challenge {
  [OptionalProps]?: 'id';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Unique({ name: 'challenge_code_unique' })
  @Property({ type: 'text' })
  code!: string;

  @Property({ type: 'text' })
  name!: string;

  @Property({ type: 'text' })
  description!: string;

  @Enum({ items: () => ChallengeMetric, type: 'text' })
  metric!: ChallengeMetric;

  @Property({ type: 'decimal', precision: 16, scale: 2 })
  target!: string;

  @Property({ type: 'integer' })
  rewardPoints!: number;

  @Property({ type: 'timestamptz' })
  startsAt!: Date;

  @Property({ type: 'timestamptz' })
  endsAt!: Date;

  @Property({ type: 'timestamptz' })
  updatedAt!: Date;
}

/** Kept current by the events that move it (purchases, check-ins, tasks); rewarded once. */
@Entity({ tableName: 'challenge_progress' })
export class ChallengeProgress {
  [OptionalProps]?: 'completedAt' | 'entryId';

  @ManyToOne(() => Challenge, { primary: true, mapToPk: true, fieldName: 'challenge_id', deleteRule: 'restrict', updateRule: 'restrict' })
  challengeId!: string;

  @ManyToOne(() => Member, { primary: true, mapToPk: true, fieldName: 'member_id', deleteRule: 'restrict', updateRule: 'restrict' })
  memberId!: string;

  @Property({ type: 'decimal', precision: 16, scale: 2 })
  current!: string;

  @Property({ type: 'timestamptz', nullable: true })
  completedAt: Date | null = null;

  @ManyToOne(() => LedgerEntry, { mapToPk: true, fieldName: 'entry_id', nullable: true, deleteRule: 'restrict', updateRule: 'restrict' })
  entryId: string | null = null;
}

/** An invitation that worked: each invitee is rewarded (with its inviter) once. */
@Entity({ tableName: 'referral' })
@Index({ name: 'referral_inviter_idx', properties: ['inviterId', 'createdAt'] })
export class Referral {
  @ManyToOne(() => Member, { primary: true, mapToPk: true, fieldName: 'invitee_id', deleteRule: 'restrict', updateRule: 'restrict' })
  inviteeId!: string;

  @ManyToOne(() => Member, { mapToPk: true, fieldName: 'inviter_id', deleteRule: 'restrict', updateRule: 'restrict' })
  inviterId!: string;

  /** Points the inviter got for this invitee. */
  @Property({ type: 'integer' })
  inviterPoints!: number;

  @Property({ type: 'integer' })
  inviteePoints!: number;

  @Property({ type: 'timestamptz' })
  createdAt!: Date;
}
