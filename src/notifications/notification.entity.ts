import { randomUUID } from 'node:crypto';
import { Entity, Enum, Index, ManyToOne, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { Member } from '../members/member.entity';

export enum NotificationKind {
  EXPIRY_WARNING = 'EXPIRY_WARNING',
  REDEMPTION = 'REDEMPTION',
  TIER_CHANGE = 'TIER_CHANGE',
  REWARD = 'REWARD',
}

@Entity({ tableName: 'notification' })
@Index({ name: 'notification_member_idx', properties: ['memberId', 'createdAt', 'id'] })
export class Notification {
  [OptionalProps]?: 'id' | 'data' | 'readAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne(() => Member, { mapToPk: true, fieldName: 'member_id', deleteRule: 'restrict', updateRule: 'restrict' })
  memberId!: string;

  @Enum({ items: () => NotificationKind, type: 'text' })
  kind!: NotificationKind;

  @Property({ type: 'text' })
  title!: string;

  @Property({ type: 'text' })
  body!: string;

  @Property({ type: 'jsonb', nullable: true })
  data: Record<string, unknown> | null = null;

  @Property({ type: 'timestamptz' })
  createdAt!: Date;

  @Property({ type: 'timestamptz', nullable: true })
  readAt: Date | null = null;
}
