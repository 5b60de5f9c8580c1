import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { MemberType } from '../members/member.types';
import { ChallengeMetric, TaskFrequency, type Challenge, type Task } from './tasks.entity';

registerEnumType(TaskFrequency, { name: 'TaskFrequency' });
registerEnumType(ChallengeMetric, { name: 'ChallengeMetric' });

@ObjectType('Task')
export class TaskType {
  @Field(() => ID) id!: string;
  @Field(() => String) code!: string;
  @Field(() => String) name!: string;
  @Field(() => String) description!: string;
  @Field(() => Int) points!: number;
  @Field(() => TaskFrequency) frequency!: TaskFrequency;
  @Field(() => Boolean, { description: 'A member may claim it directly; otherwise a partner reports it.' }) selfClaimable!: boolean;
  @Field(() => Boolean) active!: boolean;
}

@ObjectType('TaskProgress')
export class TaskProgressType {
  @Field(() => TaskType) task!: TaskType;
  @Field(() => Boolean) completedThisPeriod!: boolean;
  @Field(() => Int) completions!: number;
  @Field(() => Date, { nullable: true }) nextResetAt!: Date | null;
}

@InputType()
export class TaskInput {
  @Field(() => String) code!: string;
  @Field(() => String) name!: string;
  @Field(() => String, { nullable: true, defaultValue: '' }) description?: string | null;
  @Field(() => Int) points!: number;
  @Field(() => TaskFrequency) frequency!: TaskFrequency;
  @Field(() => Boolean, { nullable: true, defaultValue: false }) selfClaimable?: boolean | null;
  @Field(() => Boolean, { nullable: true, defaultValue: true }) active?: boolean | null;
}

@ObjectType('TaskCompletionPayload')
export class TaskCompletionPayload {
  @Field(() => TaskType) task!: TaskType;
  @Field(() => Int) pointsAwarded!: number;
  @Field(() => Int) balance!: number;
}

@ObjectType('CheckInStatus')
export class CheckInStatusType {
  @Field(() => Boolean) checkedInToday!: boolean;
  @Field(() => Int) streak!: number;
  @Field(() => Int, { description: 'Points the next check-in will award.' }) nextReward!: number;
  @Field(() => [String], { description: 'Days checked in this month, as dates (YYYY-MM-DD).' }) monthDays!: string[];
}

@ObjectType('CheckInPayload')
export class CheckInPayload {
  @Field(() => Int) pointsAwarded!: number;
  @Field(() => Int) streak!: number;
  @Field(() => Int) balance!: number;
}

@ObjectType('Challenge')
export class ChallengeType {
  @Field(() => ID) id!: string;
  @Field(() => String) code!: string;
  @Field(() => String) name!: string;
  @Field(() => String) description!: string;
  @Field(() => ChallengeMetric) metric!: ChallengeMetric;
  @Field(() => Float) target!: number;
  @Field(() => Int) rewardPoints!: number;
  @Field(() => Date) startsAt!: Date;
  @Field(() => Date) endsAt!: Date;
}

@ObjectType('ChallengeProgress')
export class ChallengeProgressType {
  @Field(() => ChallengeType) challenge!: ChallengeType;
  @Field(() => Float) current!: number;
  @Field(() => Float, { description: '0..1' }) progress!: number;
  @Field(() => Boolean) completed!: boolean;
}

@InputType()
export class ChallengeInput {
  @Field(() => String) code!: string;
  @Field(() => String) name!: string;
  @Field(() => String, { nullable: true, defaultValue: '' }) description?: string | null;
  @Field(() => ChallengeMetric) metric!: ChallengeMetric;
  @Field(() => Float) target!: number;
  @Field(() => Int) rewardPoints!: number;
  @Field(() => Date) startsAt!: Date;
  @Field(() => Date) endsAt!: Date;
}

@ObjectType('Referral')
export class ReferralType {
  @Field(() => MemberType) invitee!: MemberType;
  @Field(() => Int) pointsAwarded!: number;
  @Field(() => Date) createdAt!: Date;
}

export function toTaskType(t: Task): TaskType {
  return { id: t.id, code: t.code, name: t.name, description: t.description, points: t.points, frequency: t.frequency, selfClaimable: t.selfClaimable, active: t.active };
}

export function toChallengeType(c: Challenge): ChallengeType {
  return { id: c.id, code: c.code, name: c.name, description: c.description, metric: c.metric, target: Number(c.target), rewardPoints: c.rewardPoints, startsAt: c.startsAt, endsAt: c.endsAt };
}
