/** What other domains may use of the catalog (the boundary rule in eslint.config.mjs). */
export { ItemType } from './catalog.entity';
export { AVAILABLE_TO_MEMBER_SQL } from './catalog.sql';
