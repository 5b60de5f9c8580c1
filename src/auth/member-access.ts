import { defaultFieldResolver, isObjectType, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import type { Context } from '../context';
import { ForbiddenError } from '../platform/errors';
import { Role } from './principal';

/**
 * The one rule for member-owned data (contract, Auth): a member token sees another member's
 * `id`, `nickname` and `tier` and nothing else, whatever path reached that member
 * (`referrals.invitee`, `Redemption.member`, any path added later). Admins see all; partners
 * all but the coupon codes listed in hiddenFromPartners.
 *
 * It is applied to the built schema, not written into resolvers, so it holds for every field of
 * these types, including fields other modules add later: a field is private unless listed public
 * here (fail closed). HTTP and WebSocket execute the same schema, so both are covered.
 */
export const MEMBER_OWNED_TYPES: Readonly<
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each entry reads its own GraphQL type's source
  Record<string, { owner: (source: any) => string | null | undefined; public: readonly string[]; hiddenFromPartners?: readonly string[] }>
> = {
  // Coupon codes are bearer values a till accepts: a partner could read and burn any member's
  // (contract, Partners), so partners use useCoupon(code) with the code the member shows. Tier
  // status, protections and segment are the member's and admins' only (issue 17).
  Member: { owner: (member: { id: string }) => member.id, public: ['id', 'nickname', 'tier'], hiddenFromPartners: ['coupons', 'tierStatus', 'tierProtections', 'segment'] },
  // A redemption says what a member bought, where it ships and what it cost: all of it private.
  Redemption: { owner: (redemption: { memberId: string }) => redemption.memberId, public: ['id'], hiddenFromPartners: ['coupon', 'coupons'] },
};

export class PrivateFieldError extends ForbiddenError {
  constructor(typeName: string, field: string) {
    super(`${typeName}.${field} of another member is private`);
  }
}

/** Wraps every private field of the member-owned types with the owner check; returns the same schema. */
export function guardMemberOwnedFields(schema: GraphQLSchema): GraphQLSchema {
  for (const [typeName, rule] of Object.entries(MEMBER_OWNED_TYPES)) {
    const type = schema.getType(typeName);
    if (!isObjectType(type)) continue;
    const open = new Set(rule.public);
    const partnerHidden = new Set(rule.hiddenFromPartners ?? []);
    for (const field of Object.values(type.getFields())) {
      if (open.has(field.name)) continue;
      const resolve: GraphQLFieldResolver<unknown, Context> = field.resolve ?? defaultFieldResolver;
      const hidden = partnerHidden.has(field.name);
      field.resolve = (source, args, context: Context, info) => {
        const { principal } = context;
        if (principal.role === Role.MEMBER && principal.memberId !== rule.owner(source)) throw new PrivateFieldError(typeName, field.name);
        if (hidden && principal.role === Role.PARTNER) throw new ForbiddenError(`Partners may not read ${typeName}.${field.name}`);
        return resolve(source, args, context, info);
      };
    }
  }
  return schema;
}
