import { describe, expect, it } from 'vitest';
import { GraphQLInt, GraphQLObjectType, GraphQLSchema, parse } from 'graphql';
import { LatestValueChannel } from '../../src/realtime/latest-value';
import { subscribeShared, subscriptionTargets } from '../../src/realtime/shared-execution';

/**
 * The frame path without a socket: a subscription's events come from a LatestValueChannel, as the
 * feeds' do, and its target stands for the socket. While a frame waits on a backed-up socket, the
 * events published meanwhile collapse to the latest one (no backlog), as when graphql-ws awaited
 * every send.
 */
/** A subscription `n` whose events come from one LatestValueChannel, as the feeds' do. */
function channelSubscription() {
  const channel = new LatestValueChannel<{ n: number }>();
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { x: { type: GraphQLInt } } }),
    subscription: new GraphQLObjectType({
      name: 'Subscription',
      fields: { n: { type: GraphQLInt, subscribe: () => channel, resolve: (event: { n: number }) => event.n } },
    }),
  });
  return { channel, schema };
}

describe('subscribeShared on a backed-up socket', () => {
  it('sends the latest value once the socket took the previous frame, skipping the ones in between', async () => {
    const { channel, schema } = channelSubscription();
    const sent: string[] = [];
    let release: (() => void) | null = null;
    const contextValue = {};
    subscriptionTargets.set(contextValue, {
      key: 'k',
      // Every frame finds the socket backed up: it is taken when the test releases it.
      deliver: (bytes) => {
        sent.push(bytes.toString());
        return new Promise<void>((resolve) => (release = resolve));
      },
      deliverNow: () => false,
    });
    const events = (await subscribeShared({ schema, document: parse('subscription { n }'), contextValue })) as AsyncIterableIterator<unknown>;
    const reading = events.next();

    channel.push({ n: 1 });
    await expect.poll(() => sent).toEqual(['{"data":{"n":1}}']);
    channel.push({ n: 2 });
    channel.push({ n: 3 });
    release!();
    await expect.poll(() => sent).toEqual(['{"data":{"n":1}}', '{"data":{"n":3}}']);

    release!();
    await events.return!();
    expect(await reading).toEqual({ done: true, value: undefined });
  });

  it('writes each event straight to a socket that is not backed up, in order, and falls back to waiting once it is', async () => {
    const { channel, schema } = channelSubscription();
    const now: string[] = [];
    const waited: string[] = [];
    let backedUp = false;
    let release: (() => void) | null = null;
    const contextValue = {};
    subscriptionTargets.set(contextValue, {
      key: 'k',
      deliver: (bytes) => {
        waited.push(bytes.toString());
        return new Promise<void>((resolve) => (release = resolve));
      },
      deliverNow: (bytes) => {
        if (backedUp) return false;
        now.push(bytes.toString());
        return true;
      },
    });
    const events = (await subscribeShared({ schema, document: parse('subscription { n }'), contextValue })) as AsyncIterableIterator<unknown>;
    const reading = events.next();
    // The loop waits for its first event: from then on a free socket is written during push itself.
    await expect.poll(() => channel['waiting'] !== null).toBe(true);
    channel.push({ n: 1 });
    channel.push({ n: 2 });
    expect(now).toEqual(['{"data":{"n":1}}', '{"data":{"n":2}}']);
    // Backed up: the event goes through next() and deliver(); those pushed meanwhile collapse to the latest.
    backedUp = true;
    channel.push({ n: 3 });
    await expect.poll(() => waited).toEqual(['{"data":{"n":3}}']);
    channel.push({ n: 4 });
    channel.push({ n: 5 });
    backedUp = false;
    release!();
    await expect.poll(() => waited).toEqual(['{"data":{"n":3}}', '{"data":{"n":5}}']);
    expect(now).toEqual(['{"data":{"n":1}}', '{"data":{"n":2}}']);
    release!();
    await events.return!();
    expect(await reading).toEqual({ done: true, value: undefined });
  });
});
