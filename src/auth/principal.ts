import { ForbiddenError } from '../platform/errors';

export const Role = { MEMBER: 'member', ADMIN: 'admin', PARTNER: 'partner' } as const;
export type Role = (typeof Role)[keyof typeof Role];
export const ROLES: readonly Role[] = Object.values(Role);

/** Who is calling, from a verified token. */
export interface Principal {
  role: Role;
  /** `sub`: the member id for members, else the admin's or partner's id. */
  subject: string;
  memberId: string | null;
  partnerId: string | null;
  /** When the token stops being valid (ms since epoch): long-lived sockets are closed then. */
  expiresAt?: number;
}

export const isAdmin = (p: Principal) => p.role === Role.ADMIN;

/** Contract: members read and act for themselves only; admins and partners for anyone. */
export function assertMayActFor(principal: Principal, memberId: string): void {
  if (principal.role === Role.MEMBER && principal.memberId !== memberId) {
    throw new ForbiddenError('A member may only act for itself');
  }
}

/** The member a member-only operation acts for. */
export function requireMemberId(principal: Principal): string {
  if (principal.role !== Role.MEMBER || !principal.memberId) {
    throw new ForbiddenError('Only a signed-in member may do this');
  }
  return principal.memberId;
}

/**
 * Whose order ids and references these are: a partner's own (the token's partnerId), or '' for
 * admins, who act as the program. Two partners may both send order "1001"; neither reaches the
 * other's.
 */
export const partnerScopeOf = (principal: Principal): string => (principal.role === Role.PARTNER ? (principal.partnerId ?? '') : '');
