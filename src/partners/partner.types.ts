import { Field, Float, ID, ObjectType } from 'type-graphql';
import { connectionTypes } from '../platform/graphql/connection';
import type { PartnerCall } from './partner-call.entity';

@ObjectType('PartnerCall')
export class PartnerCallType {
  @Field(() => ID) id!: string;
  @Field(() => String) partnerId!: string;
  @Field(() => String, { nullable: true }) operationName!: string | null;
  @Field(() => String, { description: 'OK or the error code the partner got.' }) code!: string;
  @Field(() => Float) durationMs!: number;
  @Field(() => String) requestId!: string;
  @Field(() => Date) at!: Date;
}

export const { Connection: PartnerCallConnection } = connectionTypes('PartnerCall', PartnerCallType);

export function toPartnerCallType(call: PartnerCall): PartnerCallType {
  return Object.assign(new PartnerCallType(), {
    id: String(call.id),
    partnerId: call.partnerId,
    operationName: call.operationName,
    code: call.code,
    durationMs: call.durationMs,
    requestId: call.requestId,
    at: call.at,
  });
}
