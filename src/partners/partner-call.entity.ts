import { Entity, Index, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';

/**
 * One call to /partner/graphql, written in batches after the response (partner.audit.ts).
 * No variables and no member data: who, which reviewed operation, the outcome, how long.
 */
@Entity({ tableName: 'partner_call' })
@Index({ name: 'partner_call_partner_at_idx', properties: ['partnerId', 'at', 'id'] })
@Index({ name: 'partner_call_at_idx', properties: ['at', 'id'] })
export class PartnerCall {
  [OptionalProps]?: 'id';

  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string;

  @Property({ type: 'text' })
  partnerId!: string;

  /** The manifest's operation name; null when the call named no known operation. */
  @Property({ type: 'text', nullable: true })
  operationName: string | null = null;

  /** OK or the first error's extensions.code. */
  @Property({ type: 'text' })
  code!: string;

  @Property({ type: 'double' })
  durationMs!: number;

  @Property({ type: 'text' })
  requestId!: string;

  @Property({ type: 'timestamptz' })
  at!: Date;
}
