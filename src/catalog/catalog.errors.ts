import { ConflictError, DomainError, ErrorCode, NotFoundError } from '../platform/errors';

export class ItemNotFoundError extends NotFoundError {
  constructor(id: string) {
    super('Catalog item', id);
  }
}
export class RedemptionNotFoundError extends NotFoundError {
  constructor(id: string) {
    super('Redemption', id);
  }
}
export class ItemUnavailableError extends DomainError {
  constructor(itemId: string) {
    super(ErrorCode.ITEM_UNAVAILABLE, 'This item cannot be redeemed now', { itemId });
  }
}
export class OutOfStockError extends DomainError {
  constructor(itemId: string, stock: number) {
    super(ErrorCode.OUT_OF_STOCK, `Not enough stock (${stock} left)`, { itemId, stock });
  }
}
export class LimitExceededError extends DomainError {
  constructor(message: string, limit: number) {
    super(ErrorCode.LIMIT_EXCEEDED, message, { limit });
  }
}
export class RedeemRateLimitedError extends DomainError {
  constructor(limit: number) {
    super(ErrorCode.RATE_LIMITED, `More than ${limit} redemptions in 30 minutes; try again later`, { limit });
  }
}
export class DuplicateSkuError extends ConflictError {
  constructor(sku: string) {
    super(`An item with sku ${sku} already exists`, { field: 'sku' });
  }
}
export class RedemptionStateError extends ConflictError {
  constructor(id: string, status: string, action: string) {
    super(`Redemption ${id} is ${status} and cannot be ${action}`, { redemptionId: id, status });
  }
}
/** confirmRedemptionPayment cannot take this payment: the payment system must refund the cash. */
export class PaymentConflictError extends ConflictError {
  constructor(id: string, why: string, status: string) {
    super(`Redemption ${id} ${why}`, { redemptionId: id, status });
  }
}
