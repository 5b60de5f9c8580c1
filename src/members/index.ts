/**
 * What other domains may use of members (the boundary rule in eslint.config.mjs keeps them out of
 * member.entity / member.resolver). Kept to leaf modules so importing it adds no import cycle.
 */
export { MemberStatus, type Member } from './member.entity';
export * from './member.errors';
export { currentMember } from './current-member';
export { touchLastActive, TOUCH_LAST_ACTIVE_SQL } from './member.activity';
