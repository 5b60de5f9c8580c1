import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { JSONScalar } from '../platform/graphql/scalars';
import { connectionTypes } from '../platform/graphql/connection';
import { NotificationKind, type Notification } from './notification.entity';

registerEnumType(NotificationKind, { name: 'NotificationKind' });

@ObjectType('Notification')
export class NotificationType {
  @Field(() => ID) id!: string;
  @Field(() => NotificationKind) kind!: NotificationKind;
  @Field(() => String) title!: string;
  @Field(() => String) body!: string;
  @Field(() => JSONScalar, { nullable: true }) data!: Record<string, unknown> | null;
  @Field(() => Date) createdAt!: Date;
  @Field(() => Date, { nullable: true }) readAt!: Date | null;
}

export const { Connection: NotificationConnection } = connectionTypes('Notification', NotificationType);

export function toNotificationType(n: Notification): NotificationType {
  return Object.assign(new NotificationType(), { id: n.id, kind: n.kind, title: n.title, body: n.body, data: n.data, createdAt: n.createdAt, readAt: n.readAt });
}
