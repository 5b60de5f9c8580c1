import { ServiceUnavailableError } from '../platform/errors';

export class LeaderboardUnavailableError extends ServiceUnavailableError {
  constructor() {
    super('Leaderboards are unavailable right now; try again shortly');
  }
}
