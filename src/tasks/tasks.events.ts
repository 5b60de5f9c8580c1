import type { LedgerWriter, LockedMember } from '../ledger';

/**
 * A member did something that counts (completed a task, checked in), told through a Hook inside
 * the use case's unit of work, with the member locked: challenge progress listens (wired in src/app.ts).
 */
export interface MemberActed {
  writer: LedgerWriter;
  member: LockedMember;
}
