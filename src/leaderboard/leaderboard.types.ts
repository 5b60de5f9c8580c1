import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';

export enum LeaderboardPeriod {
  ALL_TIME = 'ALL_TIME',
  MONTHLY = 'MONTHLY',
  WEEKLY = 'WEEKLY',
}
registerEnumType(LeaderboardPeriod, { name: 'LeaderboardPeriod' });

@ObjectType('LeaderboardMember')
export class LeaderboardMemberType {
  @Field(() => ID) id!: string;
  @Field(() => String) nickname!: string;
  @Field(() => Int) tierLevel!: number;
}

@ObjectType('LeaderboardEntry')
export class LeaderboardEntryType {
  @Field(() => Int, { description: 'Competition ranking: tied scores share a rank (1, 2, 2, 4).' }) rank!: number;
  @Field(() => LeaderboardMemberType) member!: LeaderboardMemberType;
  @Field(() => Int, { description: 'Points earned in the period.' }) score!: number;
}

@ObjectType('Leaderboard')
export class LeaderboardType {
  @Field(() => LeaderboardPeriod) period!: LeaderboardPeriod;
  @Field(() => [LeaderboardEntryType]) entries!: LeaderboardEntryType[];
  @Field(() => Int) totalMembers!: number;
  @Field(() => Date) updatedAt!: Date;
}

@ObjectType('RankInfo')
export class RankInfoType {
  @Field(() => LeaderboardPeriod) period!: LeaderboardPeriod;
  @Field(() => Int) rank!: number;
  @Field(() => Int) score!: number;
  @Field(() => Float, { description: 'Share of ranked members at or above this rank, in percent.' }) topPercent!: number;
  @Field(() => Int, { nullable: true }) pointsToNextRank!: number | null;
}

@ObjectType('RankPoint')
export class RankPointType {
  @Field(() => String) date!: string;
  @Field(() => Int, { nullable: true }) rank!: number | null;
}
