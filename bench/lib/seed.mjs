// Helpers the suites share to seed valid rows fast.

const INVITE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';

/** Unique 8-character invite code from an index (base 31 over the app's alphabet). */
export function inviteCode(n) {
  let code = '';
  for (let i = 0; i < 8; i++) {
    code = INVITE_ALPHABET[n % INVITE_ALPHABET.length] + code;
    n = Math.floor(n / INVITE_ALPHABET.length);
  }
  return code;
}
