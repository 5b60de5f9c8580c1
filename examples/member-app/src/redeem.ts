import { useRef, useState } from 'react';
import { useMutation } from '@apollo/client/react';
import { CombinedGraphQLErrors } from '@apollo/client';
import { RedeemDocument, type RedeemMutation } from '../../../schema/generated/graphql';

/** A key per tap; crypto.randomUUID exists only in secure contexts (https, localhost). */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export interface RedeemOutcome {
  itemName: string;
  result?: RedeemMutation['redeem'];
  error?: string;
}

/**
 * One-tap redeem. Each tap gets its own idempotency key, and the key stays with that tap: when
 * the network drops the answer, the retry sends the same key and the server returns the first
 * result instead of spending twice. A double tap is one gesture: while a tap is in flight the
 * second is ignored (a ref, not state: both clicks of a double tap arrive before React renders).
 */
export function useOneTapRedeem() {
  const [redeem] = useMutation(RedeemDocument, { refetchQueries: ['Home', 'QuickRedeem', 'CatalogPage'] });
  const inFlight = useRef(false);
  const [pendingItem, setPendingItem] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<RedeemOutcome | null>(null);

  async function tap(item: { id: string; name: string }) {
    if (inFlight.current) return;
    inFlight.current = true;
    setPendingItem(item.id);
    const idempotencyKey = newIdempotencyKey();
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          const { data } = await redeem({ variables: { input: { idempotencyKey, itemId: item.id, quantity: 1 } } });
          setOutcome({ itemName: item.name, result: data!.redeem });
          return;
        } catch (error) {
          // The server answered with a refusal (not enough points, out of stock): show it, no retry.
          if (CombinedGraphQLErrors.is(error) || attempt >= 2) {
            setOutcome({ itemName: item.name, error: CombinedGraphQLErrors.is(error) ? error.errors[0]?.message : 'Network error, please try again' });
            return;
          }
          await new Promise((resolve) => setTimeout(resolve, 500 * 2 ** attempt));
        }
      }
    } finally {
      inFlight.current = false;
      setPendingItem(null);
    }
  }
  return { tap, pendingItem, outcome, clear: () => setOutcome(null) };
}
