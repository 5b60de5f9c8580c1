import { ConflictError, DomainError, ErrorCode, NotFoundError } from '../platform/errors';

export class MemberNotFoundError extends NotFoundError {
  constructor(id: string) {
    super('Member', id);
  }
}

export class MemberFrozenError extends DomainError {
  constructor(memberId: string) {
    super(ErrorCode.MEMBER_FROZEN, 'This member is frozen', { memberId });
  }
}

export class DuplicateMemberError extends ConflictError {
  constructor(field: 'mobile' | 'externalId') {
    super(`A member with this ${field} already exists`, { field });
  }
}
