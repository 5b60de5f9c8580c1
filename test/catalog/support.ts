import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { GraphQLResponse, TestApp } from '../support/app';
import { createMember, type CreatedMember } from '../support/factories';
import { adjust } from '../support/ledger';
import { tokens } from '../support/tokens';

export const DAY = 86_400_000;
export const MINUTE = 60_000;

export const ITEM_FIELDS = 'id sku name description category tags type pointsPrice cashPrice stock perMemberLimit availableFrom availableUntil imageUrl active';
export const COUPON_FIELDS = 'code value expiresAt status';
export const REDEMPTION_FIELDS = `id quantity pointsSpent cashDue status trackingNumber createdAt item { id sku stock } member { id } coupon { ${COUPON_FIELDS} } coupons { ${COUPON_FIELDS} }`;

let sequence = 0;
/** A SKU and a category no other test in this run uses. */
export const newSku = (prefix = 'T') => `${prefix}-${process.pid}-${++sequence}-${randomBytes(3).toString('hex')}`;
export const newCategory = (prefix = '分类') => `${prefix}-${++sequence}-${randomBytes(2).toString('hex')}`;

/** A valid CatalogItemInput (a VIRTUAL item), with overrides. */
export function itemInput(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { sku: newSku(), name: '视频会员月卡', category: '数码', type: 'VIRTUAL', pointsPrice: 100, stock: 10, ...overrides };
}

const CREATE = `mutation($input: CatalogItemInput!) { createCatalogItem(input: $input) { ${ITEM_FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $input: CatalogItemInput!) { updateCatalogItem(id: $id, input: $input) { ${ITEM_FIELDS} } }`;

export function createItemRaw(api: TestApp, input: Record<string, unknown>, token: string | null = tokens.admin()) {
  return api.gql(CREATE, { input }, token);
}

export async function createItem(api: TestApp, overrides: Record<string, unknown> = {}) {
  return (await api.ok(CREATE, { input: itemInput(overrides) })).createCatalogItem;
}

export function updateItemRaw(api: TestApp, id: string, input: Record<string, unknown>, token: string | null = tokens.admin()) {
  return api.gql(UPDATE, { id, input }, token);
}

export const REDEEM = `mutation($input: RedeemInput!) { redeem(input: $input) { remainingPoints member { id balance } redemption { ${REDEMPTION_FIELDS} } } }`;

let keySequence = 0;
export const newKey = () => `key-${process.pid}-${++keySequence}-${randomBytes(3).toString('hex')}`;

export function redeem(api: TestApp, token: string, input: { itemId: string; quantity?: number; idempotencyKey?: string; shippingAddress?: unknown }): Promise<GraphQLResponse> {
  return api.gql(REDEEM, { input: { idempotencyKey: newKey(), ...input } }, token);
}

export async function redeemOk(api: TestApp, token: string, input: Parameters<typeof redeem>[2]) {
  const res = await redeem(api, token, input);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data.redeem;
}

export async function redeemCode(api: TestApp, token: string, input: Parameters<typeof redeem>[2]) {
  const res = await redeem(api, token, input);
  expect(res.errors?.length, `expected an error, got ${JSON.stringify(res.data)}`).toBeGreaterThan(0);
  return res.errors![0].extensions?.code;
}

/** Gives points through adjustPoints (validDays 0: never expire). */
export async function fund(api: TestApp, memberId: string, points: number, validDays?: number) {
  const res = await adjust(api, memberId, points, { validDays });
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data.adjustPoints;
}

export async function memberWith(api: TestApp, points: number, validDays?: number): Promise<CreatedMember> {
  const member = await createMember(api);
  if (points > 0) await fund(api, member.id, points, validDays);
  return member;
}

export async function itemById(api: TestApp, id: string, token: string = tokens.admin()) {
  return (await api.ok(`query($id: ID!) { catalogItem(id: $id) { ${ITEM_FIELDS} recentRedemptions redeemable } }`, { id }, token)).catalogItem;
}

export async function balance(api: TestApp, memberId: string): Promise<number> {
  return (await api.ok(`query($id: ID!) { member(id: $id) { balance } }`, { id: memberId })).member.balance;
}

export const ADDRESS = { name: '张三', phone: '13800001234', line1: '上海市徐汇区漕溪北路 88 号', city: '上海' };

/** Counts the SQL statements the app's ORM sends while `run` runs (every statement MikroORM logs). */
export async function countQueries<T>(api: TestApp, run: () => Promise<T>): Promise<{ result: T; queries: string[] }> {
  const logger = api.app.orm.config.getLogger() as unknown as { logQuery: (context: { query: string }) => void };
  const queries: string[] = [];
  const original = logger.logQuery;
  logger.logQuery = function (this: unknown, context: { query: string }) {
    queries.push(context.query);
    return original.call(this, context);
  };
  try {
    return { result: await run(), queries };
  } finally {
    logger.logQuery = original;
  }
}
