import { describe, expect, it } from 'vitest';
import { getNamedType, isObjectType, isNonNullType, type GraphQLObjectType, type GraphQLSchema } from 'graphql';
import { startApp, wsExecute, type GraphQLResponse } from '../support/app';
import { createMember } from '../support/factories';
import { adjust } from '../support/ledger';
import { tokens } from '../support/tokens';
import { createItem } from '../catalog/support';
import { MEMBER_OWNED_TYPES } from '../../src/auth/member-access';
import { createSchema } from '../../src/schema';

/**
 * Field-level access, proven on every path the schema offers: the walk below finds each way a
 * member-callable root (query, mutation, subscription) reaches a member-owned type (Member,
 * Redemption), so a path added later is found and must be classified in ROOTS before this passes.
 */
type Segment = { type: string; field: string };
type Path = Segment[];

function pathsToOwnedTypes(schema: GraphQLSchema): Path[] {
  const targets = new Set(Object.keys(MEMBER_OWNED_TYPES));
  const found: Path[] = [];
  const walk = (type: GraphQLObjectType, path: Path, seen: Set<string>) => {
    for (const field of Object.values(type.getFields())) {
      const next = getNamedType(field.type);
      if (!isObjectType(next)) continue;
      const here = [...path, { type: type.name, field: field.name }];
      if (targets.has(next.name)) found.push(here);
      else if (!seen.has(next.name)) walk(next, here, new Set([...seen, next.name]));
    }
  };
  for (const root of [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]) if (root) walk(root, [], new Set());
  return found;
}

/** Every field of an owned type a member token may not read on someone else's object. */
function privateFields(type: GraphQLObjectType): string[] {
  const open = new Set(MEMBER_OWNED_TYPES[type.name].public);
  return Object.values(type.getFields())
    .filter((f) => !open.has(f.name))
    .map((f) => {
      const required = f.args.filter((a) => isNonNullType(a.type) && a.defaultValue === undefined);
      if (required.length) throw new Error(`${type.name}.${f.name} has required arguments: give it a selection here`);
      return isObjectType(getNamedType(f.type)) ? `${f.name} { __typename }` : f.name;
    });
}

type Kind =
  /** Reaches another member: every private field must be FORBIDDEN, public ones readable. */
  | 'other'
  /** The root itself refuses a member token (another member's id, or an admin/partner operation). */
  | 'root'
  /** Only ever returns the caller's own data. */
  | 'self';

/** How a member token calls each root that leads to member-owned data. Unknown roots fail the test. */
const ROOTS: Record<string, { kind: Kind; args?: string }> = {
  'Query.me': { kind: 'self' },
  'Query.member': { kind: 'root', args: '(id: $other)' },
  'Query.memberByExternalId': { kind: 'root', args: '(externalId: $otherExternalId)' },
  'Query.members': { kind: 'root' },
  'Query.referrals': { kind: 'other' },
  'Mutation.updateProfile': { kind: 'self', args: '(nickname: "改名")' },
  'Mutation.freezeMember': { kind: 'root', args: '(memberId: $other, reason: "x")' },
  'Mutation.unfreezeMember': { kind: 'root', args: '(memberId: $other)' },
  'Mutation.earnPoints': { kind: 'root', args: '(input: { memberId: $other, orderId: $key, amount: "10.00" })' },
  'Mutation.reverseEarn': { kind: 'root', args: '(input: { orderId: $key, reason: "x" })' },
  'Mutation.redeem': { kind: 'self', args: '(input: { itemId: $item, idempotencyKey: $key })' },
  'Mutation.cancelRedemption': { kind: 'root', args: '(id: $otherRedemption, reason: "x")' },
  'Mutation.markRedemptionShipped': { kind: 'root', args: '(id: $otherRedemption, trackingNumber: "SF1")' },
  'Mutation.confirmRedemptionPayment': { kind: 'root', args: '(id: $otherRedemption, paymentReference: "p-1", amount: "1.00")' },
  'Mutation.registerMember': { kind: 'root', args: '(input: { mobile: "13900000000", nickname: "x" })' },
};
const VARIABLE_TYPES: Record<string, string> = { other: 'ID!', otherExternalId: 'String!', item: 'ID!', key: 'String!', otherRedemption: 'ID!' };

/**
 * Member-owned data that is not a guarded type itself (ledger entries, coupons, VIP, expiry): behind
 * Member or Redemption it is covered by their guard; any other way a root reaches it is listed here.
 */
const MEMBER_DATA_TYPES = ['LedgerEntry', 'Coupon', 'VipStatus', 'ExpirySummary'];
const MEMBER_DATA_ROOTS: Record<string, { kind: 'root'; document: string } | { kind: 'self'; why: string }> = {
  'Mutation.earnPoints': { kind: 'root', document: 'mutation { earnPoints(input: { memberId: "%OTHER%", orderId: "x-1", amount: "10.00" }) { entry { id } } }' },
  'Mutation.reverseEarn': { kind: 'root', document: 'mutation { reverseEarn(input: { orderId: "x-1", reason: "x" }) { entry { id } } }' },
  'Mutation.adjustPoints': { kind: 'root', document: 'mutation { adjustPoints(input: { memberId: "%OTHER%", delta: 5, reason: "x", idempotencyKey: "x-1" }) { id } }' },
  'Mutation.approveHeldEntry': { kind: 'root', document: 'mutation { approveHeldEntry(entryId: "1") { id } }' },
  'Mutation.rejectHeldEntry': { kind: 'root', document: 'mutation { rejectHeldEntry(entryId: "1", reason: "x") { id } }' },
  'Mutation.useCoupon': { kind: 'root', document: 'mutation { useCoupon(code: "NOPE") { code } }' },
  'Subscription.balanceChanged': { kind: 'self', why: "its topic is the caller's own member id (test/ledger/balance-subscription.test.ts)" },
};

function rootsToMemberDataOutsideGuards(schema: GraphQLSchema): string[] {
  const guarded = new Set(Object.keys(MEMBER_OWNED_TYPES));
  const targets = new Set(MEMBER_DATA_TYPES);
  const roots = new Set<string>();
  const walk = (root: string, type: GraphQLObjectType, seen: Set<string>) => {
    for (const field of Object.values(type.getFields())) {
      const next = getNamedType(field.type);
      if (!isObjectType(next) || guarded.has(next.name) || seen.has(next.name)) continue;
      const start = root || `${type.name}.${field.name}`;
      if (targets.has(next.name)) roots.add(start);
      walk(start, next, new Set([...seen, next.name]));
    }
  };
  for (const root of [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]) if (root) walk('', root, new Set());
  return [...roots].sort();
}

/**
 * The operation for one path: the path's fields nested, `selection` on the owned type at its end.
 * A FORBIDDEN non-null field nulls its parents (GraphQL's rule), so private fields are asked one per operation.
 */
function documentFor(path: Path, leaf: GraphQLObjectType, selection: string): { document: string; kind: Kind; responsePath: string[] } {
  const rootKey = `${path[0].type}.${path[0].field}`;
  const root = ROOTS[rootKey];
  if (!root) throw new Error(`A new path to ${leaf.name} starts at ${rootKey}: say in ROOTS how a member token calls it`);
  const body = path.reduceRight((inner, segment, i) => `${segment.field}${i === 0 ? (root.args ?? '') : ''} { ${inner} }`, selection);
  const used = Object.keys(VARIABLE_TYPES).filter((v) => new RegExp(`\\$${v}\\b`).test(body));
  const variables = used.length ? `(${used.map((v) => `$${v}: ${VARIABLE_TYPES[v]}`).join(', ')})` : '';
  const operation = path[0].type === 'Mutation' ? 'mutation' : path[0].type === 'Subscription' ? 'subscription' : 'query';
  return { document: `${operation} Walk${variables} { ${body} }`, kind: root.kind, responsePath: path.map((s) => s.field) };
}

/** The objects found at the end of a response path (lists and connections flattened). */
function objectsAt(data: unknown, path: string[]): Record<string, unknown>[] {
  let level: unknown[] = [data];
  for (const key of path) {
    level = level.flatMap((value) => (value == null ? [] : Array.isArray(value) ? value : [value])).map((v) => (v as Record<string, unknown>)[key]);
  }
  return level.flatMap((value) => (value == null ? [] : Array.isArray(value) ? value : [value])) as Record<string, unknown>[];
}

describe('field-level access to member-owned data', async () => {
  const api = await startApp();
  const schema = await createSchema();
  const walked = pathsToOwnedTypes(schema);

  // The world: A invited B; B has points, an external id and a redemption.
  const a = await createMember(api, { nickname: '甲' });
  const b = await createMember(api, { nickname: '乙', inviteCode: a.inviteCode, externalId: `ext-${a.id.slice(0, 8)}` });
  await adjust(api, b.id, 500);
  await adjust(api, a.id, 500);
  const item = await createItem(api, { pointsPrice: 10, stock: 100, type: 'PHYSICAL' });
  const virtualItem = await createItem(api, { pointsPrice: 10, stock: 100 });
  const bRedemption = (
    await api.ok(
      'mutation($i: RedeemInput!) { redeem(input: $i) { redemption { id } } }',
      { i: { itemId: item.id, idempotencyKey: 'b-1', shippingAddress: { name: '乙', phone: '13900000000', address: '上海' } } },
      b.token,
    )
  ).redeem.redemption.id;
  let sequence = 0;
  const variables = () => ({ other: b.id, otherExternalId: `ext-${a.id.slice(0, 8)}`, item: virtualItem.id, key: `walk-${++sequence}`, otherRedemption: bRedemption });

  it('finds the paths a member can take to another member, including referrals.invitee', () => {
    const named = walked.map((p) => p.map((s) => `${s.type}.${s.field}`).join(' > '));
    expect(named).toContain('Query.referrals > Referral.invitee');
    expect(named).toContain('Mutation.redeem > RedeemPayload.redemption');
    // Every private field the issue names is private here (those this schema has).
    const declared = privateFields(schema.getType('Member') as GraphQLObjectType).map((f) => f.split(' ')[0]);
    for (const name of ['balance', 'lifetimeEarned', 'totalSpend', 'mobile', 'externalId', 'expiringPoints', 'ledger', 'redemptions', 'coupons', 'vip', 'lastActiveAt']) {
      expect(declared).toContain(name);
    }
    expect(declared).not.toContain('nickname');
  });

  for (const transport of ['HTTP', 'WebSocket'] as const) {
    it(`refuses every private field of another member on every path, over ${transport}`, async () => {
      const run = async (document: string): Promise<GraphQLResponse> => {
        if (transport === 'HTTP') return api.gql(document, variables(), a.token);
        const client = api.ws(a.token);
        try {
          return await wsExecute(client, document, variables());
        } finally {
          await client.dispose();
        }
      };
      let reachedOther = 0;
      for (const path of walked) {
        const last = path.at(-1)!;
        const owned = getNamedType((schema.getType(last.type) as GraphQLObjectType).getFields()[last.field].type) as GraphQLObjectType;
        const privates = privateFields(owned);
        const publics = MEMBER_OWNED_TYPES[owned.name].public.map((f) => (isObjectType(getNamedType(owned.getFields()[f].type)) ? `${f} { __typename }` : f)).join(' ');
        const all = documentFor(path, owned, `${publics} ${privates.join(' ')}`);
        const check = (res: GraphQLResponse, document: string) => {
          const label = `${transport} ${document}\n${JSON.stringify(res).slice(0, 600)}`;
          expect(
            (res.errors ?? []).map((e) => e.extensions?.code),
            label,
          ).not.toContain('INTERNAL_SERVER_ERROR');
          return label;
        };
        if (all.kind === 'root') {
          const res = await run(all.document);
          const label = check(res, all.document);
          expect(res.errors?.[0]?.extensions?.code, label).toBe('FORBIDDEN');
          expect(res.errors?.[0]?.path, label).toEqual([path[0].field]);
          continue;
        }
        if (all.kind === 'self') {
          const res = await run(all.document);
          const label = check(res, all.document);
          expect(res.errors, label).toBeUndefined();
          const objects = objectsAt(res.data, all.responsePath);
          expect(objects.length, label).toBeGreaterThan(0);
          if (owned.name === 'Member') for (const o of objects) expect(o.id, label).toBe(a.id);
          continue;
        }
        // Another member: the public fields read fine…
        const open = documentFor(path, owned, publics);
        const res = await run(open.document);
        const label = check(res, open.document);
        expect(res.errors, label).toBeUndefined();
        const others = objectsAt(res.data, open.responsePath);
        expect(others.length, `${label}\nthe path reached no other member: make the world above reach one`).toBeGreaterThan(0);
        for (const o of others) expect(o.id, label).not.toBe(a.id);
        reachedOther += others.length;
        // …and each private field is FORBIDDEN, its value nowhere in the answer.
        for (const field of privates) {
          const name = field.split(' ')[0];
          const one = documentFor(path, owned, `${publics} ${field}`);
          const refused = await run(one.document);
          const oneLabel = check(refused, one.document);
          expect(refused.errors?.length, oneLabel).toBeGreaterThan(0);
          for (const error of refused.errors!) {
            expect(error.extensions?.code, oneLabel).toBe('FORBIDDEN');
            expect(error.path?.at(-1), oneLabel).toBe(name);
          }
          for (const o of objectsAt(refused.data, one.responsePath)) expect(o[name] ?? null, oneLabel).toBeNull();
        }
      }
      expect(reachedOther).toBeGreaterThan(0);
    });
  }

  it('member-owned data reached outside Member and Redemption comes only from roots that refuse a member token or serve only the caller', async () => {
    const roots = rootsToMemberDataOutsideGuards(schema);
    expect(roots.length).toBeGreaterThan(0);
    for (const root of roots) {
      const rule = MEMBER_DATA_ROOTS[root];
      expect(rule, `${root} reaches member-owned data outside the guarded types: classify it in MEMBER_DATA_ROOTS`).toBeDefined();
      if (rule.kind !== 'root') continue;
      const document = rule.document.replace('%OTHER%', b.id);
      for (const res of [await api.gql(document, {}, a.token), await wsExecute(api.ws(a.token), document)]) {
        expect(res.errors?.[0]?.extensions?.code, `${root}: ${JSON.stringify(res.errors)}`).toBe('FORBIDDEN');
        expect(res.data ?? null).toBeNull();
      }
    }
  });

  it('the issue’s exploit: an invitee’s balance, spend and order history are refused; nickname and tier are not', async () => {
    const res = await api.gql('{ referrals { invitee { id nickname tier { level } balance totalSpend ledger(first: 5) { edges { node { reference description } } } } } }', {}, a.token);
    // Member.balance is non-null, so the refusal nulls the (non-null) chain up to data.
    expect(res.data ?? null).toBeNull();
    expect(res.errors?.[0]).toMatchObject({ path: ['referrals', 0, 'invitee', 'balance'], extensions: { code: 'FORBIDDEN' } });
    expect(JSON.stringify(res)).not.toMatch(/订单|消费|¥/);
    const open = await api.ok('{ referrals { invitee { id nickname tier { level } } } }', {}, a.token);
    expect(open.referrals).toEqual([{ invitee: { id: b.id, nickname: '乙', tier: { level: expect.any(Number) } } }]);
  });

  it('the member itself and admins still read every field (partners run only reviewed operations, on /partner/graphql)', async () => {
    const fields = '{ id balance totalSpend mobile externalId redemptions { edges { node { id pointsSpent member { id } } } } coupons { code } vip { __typename } }';
    const self = await api.gql(`query($id: ID!) { member(id: $id) ${fields} }`, { id: b.id }, b.token);
    expect(self.errors).toBeUndefined();
    expect(self.data.member.balance).toBeGreaterThan(0);
    expect(self.data.member.redemptions.edges[0].node.member.id).toBe(b.id);
    const res = await api.gql(`query($id: ID!) { member(id: $id) ${fields} }`, { id: b.id }, tokens.admin());
    expect(res.errors).toBeUndefined();
    expect(res.data.member.balance).toBe(self.data.member.balance);
  });
});
