import { randomInt } from 'node:crypto';
import type { TestApp } from './app';
import { tokens } from './tokens';

let sequence = 0;

/** A mobile number no other member in this file has. */
export function uniqueMobile(): string {
  sequence += 1;
  return `139${String(randomInt(0, 10_000)).padStart(4, '0')}${String(sequence % 10_000).padStart(4, '0')}`;
}

export const MEMBER_FIELDS = 'id externalId nickname mobile status balance lifetimeEarned totalSpend inviteCode tier { level name } nextTier { spendNeeded progress tier { level } }';

export interface CreatedMember {
  id: string;
  token: string;
  inviteCode: string;
  mobile: string;
}

/** Registers a member through the API, as a partner would. */
export async function createMember(api: TestApp, input: { nickname?: string; mobile?: string; externalId?: string; inviteCode?: string } = {}): Promise<CreatedMember> {
  const mobile = input.mobile ?? uniqueMobile();
  const data = await api.ok(
    `mutation($input: RegisterMemberInput!) { registerMember(input: $input) { id inviteCode mobile } }`,
    { input: { nickname: input.nickname ?? `会员${sequence}`, mobile, externalId: input.externalId, inviteCode: input.inviteCode } },
    tokens.admin(),
  );
  return { id: data.registerMember.id, inviteCode: data.registerMember.inviteCode, mobile, token: tokens.member(data.registerMember.id) };
}
