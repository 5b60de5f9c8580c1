import { DomainError, ErrorCode, NotFoundError } from '../platform/errors';

export class AlreadyDoneError extends DomainError {
  constructor(message: string) {
    super(ErrorCode.ALREADY_DONE, message);
  }
}

export class TaskNotFoundError extends NotFoundError {
  constructor(code: string) {
    super('Task', code);
  }
}
