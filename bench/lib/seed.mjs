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

/**
 * The session settings of a bulk load: no durable commit per statement, room to sort, and
 * foreign-key triggers off (the suites' rows are consistent by construction).
 */
export const BULK_LOAD_SESSION = `set synchronous_commit = off; set work_mem = '256MB'; set maintenance_work_mem = '512MB'; set session_replication_role = replica`;

/** `step(name, fn)` runs fn and records its wall time in `timings[name]` (ms). */
export function timedSteps() {
  const timings = {};
  const step = async (name, fn) => {
    const t = Date.now();
    await fn();
    timings[name] = Date.now() - t;
  };
  return { timings, step };
}
