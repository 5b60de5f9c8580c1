import { BadInputError } from '../platform/errors';

/** A task or challenge code (admin-defined). */
export const CODE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Trimmed text of 1 (0 when not required) to `max` characters, or BAD_USER_INPUT on `field`. */
export function text(value: string | null | undefined, field: string, max: number, required = true): string {
  const v = (value ?? '').trim();
  if ((required && !v) || v.length > max) throw new BadInputError(`${field} must be ${required ? '1' : '0'} to ${max} characters`, field);
  return v;
}
