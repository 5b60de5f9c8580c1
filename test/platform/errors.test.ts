import { describe, expect, it, vi } from 'vitest';
import pg from 'pg';
import { GraphQLError, Kind, locatedError, parseValue, type GraphQLFormattedError } from 'graphql';
import { AuthenticationError, AuthorizationError } from 'type-graphql';
import { ConflictError, DomainError, ErrorCode, formatError, NotFoundError } from '../../src/platform/errors';
import { BigIntScalar, DateTimeScalar, Decimal, DecimalScalar, JSONScalar } from '../../src/platform/graphql/scalars';
import { startApp, wsExecute, type GraphQLResponse } from '../support/app';
import { createMember } from '../support/factories';
import { tokens } from '../support/tokens';

const UPSERT = 'mutation($m: Decimal!) { upsertTier(input: { level: 5, name: "x", minSpend: $m, multiplier: 1 }) { level } }';

function expectBadInput(res: GraphQLResponse, message?: RegExp) {
  expect(
    res.errors?.map((e) => e.extensions?.code),
    JSON.stringify(res.errors),
  ).toEqual(['BAD_USER_INPUT']);
  if (message) expect(res.errors![0].message).toMatch(message);
}

describe('errors through the API', async () => {
  const api = await startApp();
  const admin = tokens.admin();
  const tierLevels = async () => (await api.ok('{ tiers { level } }')).tiers.map((t: { level: number }) => t.level);

  it('refuses a malformed Decimal literal with BAD_USER_INPUT, on HTTP and over WebSocket', async () => {
    const literal = 'mutation { upsertTier(input: { level: 5, name: "x", minSpend: "abc", multiplier: 1 }) { level } }';
    const http = await api.gql(literal, {}, admin);
    expect(http.status).toBe(400);
    expectBadInput(http, /Decimal/);
    expectBadInput(await wsExecute(api.ws(admin), literal), /Decimal/);
    for (const bad of ['1e5', '12.', '.5', '1,000.00', 'NaN', 'Infinity', '0x10', ' ']) {
      expectBadInput(await api.gql(literal.replace('"abc"', JSON.stringify(bad)), {}, admin));
    }
    expectBadInput(await api.gql(literal.replace('"abc"', 'true'), {}, admin));
    expect(await tierLevels()).toEqual([1, 2, 3, 4]);
  });

  it('refuses a malformed Decimal variable with BAD_USER_INPUT, on HTTP and over WebSocket', async () => {
    for (const bad of ['abc', '1e5', '', '12.3.4', true, { amount: 1 }, [1], 0.1 + 0.2]) {
      expectBadInput(await api.gql(UPSERT, { m: bad }, admin), /\$m/);
    }
    expectBadInput(await wsExecute(api.ws(admin), UPSERT, { m: 'abc' }), /Decimal/);
    expect(await tierLevels()).toEqual([1, 2, 3, 4]);
  });

  it('refuses a Decimal the database column cannot hold, or with more than 2 decimals', async () => {
    expectBadInput(await api.gql(UPSERT, { m: '999999999999999999' }, admin), /minSpend/);
    expectBadInput(await api.gql(UPSERT, { m: '1000000000000' }, admin), /minSpend/);
    expectBadInput(await api.gql(UPSERT, { m: '50000.005' }, admin), /minSpend/);
    expect(await tierLevels()).toEqual([1, 2, 3, 4]);
  });

  it('refuses other malformed variables with BAD_USER_INPUT on HTTP and over WebSocket alike', async () => {
    const cases: [string, Record<string, unknown>][] = [
      ['query($f: Int) { members(first: $f) { totalCount } }', { f: 'abc' }],
      ['query($f: Int!) { members(first: $f) { totalCount } }', {}],
      ['query($s: MemberStatus) { members(filter: { status: $s }) { totalCount } }', { s: 'DELETED' }],
      ['query A { tiers { id } } query B { tiers { level } }', {}],
    ];
    for (const [query, variables] of cases) {
      expectBadInput(await api.gql(query, variables, admin));
      expectBadInput(await wsExecute(api.ws(admin), query, variables));
    }
  });

  it('refuses text with a NUL character as BAD_USER_INPUT, not as an internal error', async () => {
    const nul = 'x\u0000y';
    const cases: [string, Record<string, unknown>][] = [
      ['mutation($i: RegisterMemberInput!) { registerMember(input: $i) { id } }', { i: { mobile: '13800001111', nickname: 'n', externalId: nul } }],
      ['mutation($i: RegisterMemberInput!) { registerMember(input: $i) { id } }', { i: { mobile: '13800001112', nickname: 'n', inviteCode: nul } }],
      ['query($e: String!) { memberByExternalId(externalId: $e) { id } }', { e: nul }],
      ['query($s: String) { members(filter: { search: $s }) { totalCount } }', { s: nul }],
      ['mutation($n: String!) { upsertTier(input: { level: 1, name: $n, minSpend: "0", multiplier: 1 }) { id } }', { n: nul }],
    ];
    for (const [query, variables] of cases) {
      expectBadInput(await api.gql(query, variables, admin), /NUL/);
    }
    expectBadInput(await wsExecute(api.ws(admin), cases[2][0], cases[2][1]), /NUL/);
    const after = await api.ok('{ members { totalCount } tiers { name } }');
    expect(after.members.totalCount).toBe(0);
    expect(after.tiers[0].name).toBe('普通会员');
  });

  it('masks an unexpected failure as INTERNAL_SERVER_ERROR with no stack and no SQL, and reports it', async () => {
    const member = await createMember(api, { nickname: 'broken' });
    const report = vi.spyOn(api.app.log, 'error');
    const client = new pg.Client({ connectionString: api.databaseUrl });
    await client.connect();
    await client.query('ALTER TABLE member RENAME COLUMN nickname TO nick');
    try {
      const responses = [
        await api.gql('{ me { id nickname } }', {}, member.token, { allowInternal: true }),
        await api.gql('{ members(filter: { search: "broken" }) { totalCount edges { node { id } } } }', {}, admin, { allowInternal: true }),
        await wsExecute(api.ws(admin), '{ members(filter: { search: "broken" }) { totalCount } }'),
      ];
      for (const res of responses) {
        expect(res.errors).toHaveLength(1);
        expect(res.errors![0].message).toBe('Internal server error');
        expect(res.errors![0].extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
        expect(Object.keys(res.errors![0]).every((key) => ['message', 'locations', 'path', 'extensions'].includes(key))).toBe(true);
        // Everything but the positions (locations has a "column" key, path names the field asked for).
        const text = JSON.stringify({ data: res.data, errors: res.errors!.map((e) => ({ message: e.message, extensions: e.extensions })) }).toLowerCase();
        for (const leak of ['select', 'column', 'stack', 'at ', 'nick', 'member"', 'exception']) {
          expect(text, `response leaks "${leak}"`).not.toContain(leak);
        }
      }
      // The operator still sees what happened: the original error is logged.
      const logged = report.mock.calls.map((call) => String((call[0] as { err?: Error }).err?.message));
      expect(
        logged.some((message) => /column .*nickname.* does not exist/.test(message)),
        JSON.stringify(logged),
      ).toBe(true);
    } finally {
      await client.query('ALTER TABLE member RENAME COLUMN nick TO nickname');
      await client.end();
      report.mockRestore();
    }
    expect((await api.ok('{ me { nickname } }', {}, member.token)).me.nickname).toBe('broken');
  });
});

describe('formatError', () => {
  const formatted = (error: GraphQLError): GraphQLFormattedError => error.toJSON();
  const inResolver = (original: Error) => locatedError(original, undefined, ['members']);

  it('shows a domain error as its code, message and details', () => {
    const error = inResolver(new ConflictError('A member with this mobile already exists', { field: 'mobile' }));
    const report = vi.fn();
    expect(formatError(formatted(error), error, report)).toEqual({
      message: 'A member with this mobile already exists',
      locations: undefined,
      path: ['members'],
      extensions: { code: 'CONFLICT', field: 'mobile' },
    });
    expect(report).not.toHaveBeenCalled();
    const notFound = inResolver(new NotFoundError('Member', 'x'));
    expect(formatError(formatted(notFound), notFound).extensions).toEqual({ code: 'NOT_FOUND', id: 'x' });
  });

  it('turns type-graphql auth errors into UNAUTHENTICATED and FORBIDDEN', () => {
    const authn = inResolver(new AuthenticationError());
    expect(formatError(formatted(authn), authn).extensions).toEqual({ code: 'UNAUTHENTICATED' });
    const authz = inResolver(new AuthorizationError());
    expect(formatError(formatted(authz), authz)).toMatchObject({ message: 'You may not do this', extensions: { code: 'FORBIDDEN' } });
  });

  it('turns GraphQL request errors into BAD_USER_INPUT with the reason', () => {
    for (const reason of ['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_REQUEST', 'OPERATION_RESOLUTION_FAILURE', 'BAD_USER_INPUT']) {
      const error = new GraphQLError('Cannot query field "x" on type "Query".', { extensions: { code: reason } });
      expect(formatError(formatted(error), error)).toEqual({
        message: 'Cannot query field "x" on type "Query".',
        locations: undefined,
        path: undefined,
        extensions: { code: 'BAD_USER_INPUT', reason },
      });
    }
  });

  it('keeps a contract code on a GraphQLError, and drops anything else it carries', () => {
    const error = new GraphQLError('At most 20 operations per socket', { extensions: { code: 'LIMIT_EXCEEDED', stacktrace: ['at x'], secret: 1 } });
    expect(formatError(formatted(error), error)).toMatchObject({ message: 'At most 20 operations per socket', extensions: { code: 'LIMIT_EXCEEDED' } });
    expect(formatError(formatted(error), error).extensions).toEqual({ code: 'LIMIT_EXCEEDED' });
  });

  it('masks everything unexpected, reporting the original', () => {
    const sql = new Error('select "m0".* from "member" as "m0" - column "nickname" does not exist');
    const cases: GraphQLError[] = [
      inResolver(sql),
      new GraphQLError('Cannot return null for non-nullable field Member.nickname.', { path: ['me', 'nickname'] }),
      new GraphQLError('weird', { extensions: { code: 'SOMETHING_ELSE' } }),
      new GraphQLError('Context creation failed: boom', { extensions: { code: 'INTERNAL_SERVER_ERROR', stacktrace: ['Error: boom', '    at x (y.js:1:1)'] } }),
    ];
    for (const error of cases) {
      const report = vi.fn();
      const shown = formatError({ ...formatted(error), extensions: { ...error.extensions, stacktrace: ['at secret.js:1:1'] } }, error, report);
      expect(shown.message).toBe('Internal server error');
      expect(shown.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
      expect(JSON.stringify({ message: shown.message, extensions: shown.extensions })).not.toMatch(/select|nickname|stack|at |weird|boom/);
      expect(Object.keys(shown).sort()).toEqual(['extensions', 'locations', 'message', 'path']);
      expect(report).toHaveBeenCalledTimes(1);
    }
    const report = vi.fn();
    formatError(formatted(inResolver(sql)), inResolver(sql), report);
    expect(report.mock.calls[0][0]).toBe(sql);
  });

  it('masks a plain Error even when it claims a contract code', () => {
    const error = Object.assign(new Error('duplicate key value violates unique constraint'), { extensions: { code: 'CONFLICT' } });
    const located = locatedError(error, undefined, ['registerMember']);
    expect(formatError({ ...formatted(located), extensions: { code: 'CONFLICT' } }, located).extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
  });

  it('calls a NUL in the client text BAD_USER_INPUT, and other protocol errors internal', () => {
    const nul = inResolver(Object.assign(new Error(`select 1 where x = 'a\u0000b' - invalid message format`), { code: '08P01' }));
    expect(formatError(formatted(nul), nul).extensions).toEqual({ code: 'BAD_USER_INPUT' });
    const other = inResolver(Object.assign(new Error('invalid message format'), { code: '08P01' }));
    expect(formatError(formatted(other), other).extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
  });

  it('calls PostgreSQL away (restart, refused, timeouts) or a conflict lost after retries SERVICE_UNAVAILABLE, retryable, with no internals', () => {
    for (const error of [
      Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('select 1 - canceling statement due to statement timeout'), { code: '57014' }),
      new Error('Knex: Timeout acquiring a connection. The pool is probably full.'),
      new Error('Connection terminated unexpectedly'),
      new Error('Transaction query already complete, run with DEBUG=knex:tx for more info'),
      Object.assign(new Error('wrapped'), { cause: Object.assign(new Error('deadlock detected'), { code: '40P01' }) }),
    ]) {
      const wrapped = inResolver(error);
      const shown = formatError(formatted(wrapped), wrapped);
      expect(shown.extensions).toEqual({ code: 'SERVICE_UNAVAILABLE', retryable: true });
      expect(shown.message).not.toMatch(/5432|select|Knex|knex|deadlock|ECONN/);
    }
  });

  it('knows every contract code', () => {
    expect(Object.values(ErrorCode).sort()).toEqual(
      [
        'UNAUTHENTICATED',
        'FORBIDDEN',
        'BAD_USER_INPUT',
        'NOT_FOUND',
        'INSUFFICIENT_POINTS',
        'OUT_OF_STOCK',
        'ITEM_UNAVAILABLE',
        'LIMIT_EXCEEDED',
        'RATE_LIMITED',
        'MEMBER_FROZEN',
        'ALREADY_DONE',
        'CONFLICT',
        'SERVICE_UNAVAILABLE',
        'PERSISTED_QUERY_NOT_FOUND',
        'PERSISTED_QUERY_NOT_ALLOWED',
        'INTERNAL_SERVER_ERROR',
      ].sort(),
    );
    expect(new DomainError(ErrorCode.CONFLICT, 'x').name).toBe('DomainError');
    expect(new ConflictError('x').name).toBe('ConflictError');
  });
});

describe('scalars', () => {
  const badInput = (run: () => unknown) => {
    try {
      run();
    } catch (error) {
      expect(error).toBeInstanceOf(GraphQLError);
      expect((error as GraphQLError).extensions.code).toBe('BAD_USER_INPUT');
      return;
    }
    throw new Error('expected a BAD_USER_INPUT GraphQLError');
  };

  it('DateTime: ISO-8601 in UTC out; any real instant with a zone in', () => {
    expect(DateTimeScalar.serialize(new Date('2026-01-31T16:00:00Z'))).toBe('2026-01-31T16:00:00.000Z');
    expect(DateTimeScalar.serialize('2026-02-01T00:00:00+08:00')).toBe('2026-01-31T16:00:00.000Z');
    expect(() => DateTimeScalar.serialize('yesterday')).toThrow(GraphQLError);
    expect(DateTimeScalar.parseValue('2026-02-01T00:00:00+08:00')).toEqual(new Date('2026-01-31T16:00:00Z'));
    expect(DateTimeScalar.parseValue('2026-02-01T00:00+0800')).toEqual(new Date('2026-01-31T16:00:00Z'));
    expect(DateTimeScalar.parseValue('2026-01-31T16:00:00.123456z')).toEqual(new Date('2026-01-31T16:00:00.123Z'));
    expect(DateTimeScalar.parseValue('2028-02-29T12:00:00Z')).toEqual(new Date('2028-02-29T12:00:00Z'));
    expect(DateTimeScalar.parseLiteral(parseValue('"2026-01-31T16:00:00Z"'))).toEqual(new Date('2026-01-31T16:00:00Z'));
    for (const bad of [
      '2026-01-31',
      '2026-01-31T16:00:00',
      '2026-01-31 16:00:00Z',
      'now',
      '',
      '2026-13-01T00:00:00Z',
      '2026-02-30T00:00:00Z',
      '2027-02-29T00:00:00Z',
      '2026-04-31T10:00:00Z',
      '2026-01-31T24:00:00Z',
      '2026-01-31T23:60:00Z',
      1769875200000,
      null,
    ]) {
      badInput(() => DateTimeScalar.parseValue(bad));
    }
    badInput(() => DateTimeScalar.parseLiteral(parseValue('1769875200000')));
  });

  it('Decimal: exact, a string with at least 2 decimals out; strings (or plain numbers) in', () => {
    expect(DecimalScalar.serialize(new Decimal('99.5'))).toBe('99.50');
    expect(DecimalScalar.serialize(new Decimal('3'))).toBe('3.00');
    expect(DecimalScalar.serialize(new Decimal('1.125'))).toBe('1.125');
    expect(DecimalScalar.serialize('1000')).toBe('1000.00');
    expect(DecimalScalar.serialize(new Decimal('0.1').plus('0.2'))).toBe('0.30');
    expect(DecimalScalar.serialize(new Decimal('123456789012.34'))).toBe('123456789012.34');
    expect(DecimalScalar.serialize(new Decimal('1e-7'))).not.toMatch(/e/i);
    expect(DecimalScalar.parseValue('99.50').equals('99.5')).toBe(true);
    expect(DecimalScalar.parseValue(' -12.5 ').toFixed()).toBe('-12.5');
    expect(DecimalScalar.parseValue(12).toFixed()).toBe('12');
    expect(DecimalScalar.parseLiteral(parseValue('"0.10"')).toFixed()).toBe('0.1');
    expect(DecimalScalar.parseLiteral(parseValue('7')).toFixed()).toBe('7');
    for (const bad of ['abc', '1e5', '', '.5', '5.', '1,5', '12345678901234567890', '1.1234567', 'NaN', NaN, Infinity, 0.1 + 0.2, true, null, {}]) {
      badInput(() => DecimalScalar.parseValue(bad));
    }
    badInput(() => DecimalScalar.parseLiteral(parseValue('true')));
    badInput(() => DecimalScalar.parseLiteral({ kind: Kind.LIST, values: [] }));
  });

  it('BigInt: always a string of digits out, whatever its size', () => {
    expect(BigIntScalar.serialize(12345678901234567890n)).toBe('12345678901234567890');
    expect(BigIntScalar.serialize(42)).toBe('42');
    expect(BigIntScalar.serialize('0042')).toBe('42');
    expect(BigIntScalar.serialize(-7n)).toBe('-7');
    for (const value of [0n, 1n, 2n ** 64n, 10n ** 29n]) expect(BigIntScalar.serialize(value)).toMatch(/^\d+$/);
    for (const bad of [1.5, 'abc', '1e3', NaN, null, {}]) expect(() => BigIntScalar.serialize(bad)).toThrow(GraphQLError);
    expect(BigIntScalar.parseValue('12345678901234567890')).toBe(12345678901234567890n);
    expect(BigIntScalar.parseValue(42)).toBe(42n);
    expect(BigIntScalar.parseLiteral(parseValue('12345678901234567890'))).toBe(12345678901234567890n);
    expect(BigIntScalar.parseLiteral(parseValue('"-5"'))).toBe(-5n);
    for (const bad of [1.5, 2 ** 60, '1.0', 'abc', '', '1e3', true, null]) badInput(() => BigIntScalar.parseValue(bad));
    badInput(() => BigIntScalar.parseLiteral(parseValue('1.5')));
  });

  it('JSON: any JSON value, both ways', () => {
    const value = { perks: ['积分兑换'], nested: { n: 1, ok: true, none: null } };
    expect(JSONScalar.serialize(value)).toEqual(value);
    expect(JSONScalar.parseValue(value)).toEqual(value);
    expect(JSONScalar.parseLiteral(parseValue('{ perks: ["a"], n: 1.5, ok: false, none: null }'))).toEqual({ perks: ['a'], n: 1.5, ok: false, none: null });
    expect(JSONScalar.parseLiteral(parseValue('[1, "two"]'))).toEqual([1, 'two']);
  });
});
