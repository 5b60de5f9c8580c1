import { ConflictError, DomainError, ErrorCode, NotFoundError } from '../platform/errors';

export class InsufficientPointsError extends DomainError {
  constructor(needed: number, available: number) {
    super(ErrorCode.INSUFFICIENT_POINTS, `Not enough points: ${needed} needed, ${available} available`, { needed, available });
  }
}

export class EarnRateLimitedError extends DomainError {
  constructor(limit: number) {
    super(ErrorCode.RATE_LIMITED, `More than ${limit} purchase earnings in an hour; try again later`, { limit });
  }
}

export class OrderConflictError extends ConflictError {
  constructor(orderId: string, why: string) {
    super(`Order ${orderId} was already processed ${why}`, { orderId });
  }
}

export class IdempotencyConflictError extends ConflictError {
  constructor(key: string) {
    super(`The idempotency key ${key} was already used with other arguments`, { idempotencyKey: key });
  }
}

export class EntryNotFoundError extends NotFoundError {
  constructor(id: string) {
    super('Ledger entry', id);
  }
}

export class OrderNotFoundError extends NotFoundError {
  constructor(orderId: string) {
    super('Order', orderId);
  }
}

export class EntryNotHeldError extends ConflictError {
  constructor(id: string, status: string) {
    super(`Entry ${id} is ${status}, not HELD`, { entryId: id, status });
  }
}
