/** What other domains may use of notifications (the boundary rule in eslint.config.mjs). */
export { NotificationKind } from './notification.entity';
