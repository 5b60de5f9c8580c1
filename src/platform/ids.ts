/** The canonical UUID text form (any version), the only id shape the API accepts. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids are UUIDs; anything else names nothing (and must never reach SQL as a uuid). */
export const isUuid = (id: string): boolean => UUID_PATTERN.test(id);

/** Escapes LIKE wildcards so a search for "50%" matches the text "50%". */
export const likeEscape = (text: string): string => text.replace(/[\\%_]/g, (c) => `\\${c}`);
