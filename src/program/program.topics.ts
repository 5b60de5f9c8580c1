/** One channel per member: EXPIRY_WARNING:<memberId>. */
export const EXPIRY_WARNING_TOPIC = 'EXPIRY_WARNING';

/** What travels through Redis for pointsExpiring: plain JSON. */
export interface ExpiryWarningPayload {
  memberId: string;
  points: number;
  expiresAt: string;
  daysLeft: number;
  message: string;
}
