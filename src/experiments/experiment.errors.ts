import { ConflictError, NotFoundError } from '../platform/errors';
import type { ExperimentStatus } from './experiment.entity';

/** Unknown, or still a DRAFT where members ask for it: members never learn a draft exists. */
export class ExperimentNotFoundError extends NotFoundError {
  constructor(key: string) {
    super('Experiment', key);
  }
}

export class DuplicateExperimentError extends ConflictError {
  constructor(key: string) {
    super(`An experiment with key ${key} already exists`, { field: 'key' });
  }
}

/** start on a RUNNING or STOPPED experiment, stop on a DRAFT or STOPPED one. */
export class ExperimentStateError extends ConflictError {
  constructor(key: string, status: ExperimentStatus, action: 'start' | 'stop') {
    super(`Experiment ${key} is ${status} and cannot ${action}`, { status });
  }
}
