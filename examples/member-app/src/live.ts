import { useEffect, useState } from 'react';
import { useApolloClient, useSubscription } from '@apollo/client/react';
import { BalanceChangedDocument, PointsExpiringDocument, type PointsExpiringSubscription } from '../../../schema/generated/graphql';

/**
 * The member's live feeds, one subscription each on the one socket. balanceChanged is written
 * into the cache (the Member's balance), so every screen showing it updates; pointsExpiring
 * becomes the banner until dismissed.
 */
export function useLiveMember(): { expiring: PointsExpiringSubscription['pointsExpiring'] | null; dismissExpiring: () => void } {
  const apollo = useApolloClient();
  useSubscription(BalanceChangedDocument, {
    onData: ({ data }) => {
      const change = data.data?.balanceChanged;
      if (!change) return;
      apollo.cache.modify({
        id: apollo.cache.identify({ __typename: 'Member', id: change.memberId }),
        fields: { balance: () => change.balance },
      });
      // Quick-redeem options depend on the balance: read them again.
      void apollo.refetchQueries({ include: ['QuickRedeem', 'Home'] });
    },
  });
  const [expiring, setExpiring] = useState<PointsExpiringSubscription['pointsExpiring'] | null>(null);
  const { data } = useSubscription(PointsExpiringDocument);
  useEffect(() => {
    if (data?.pointsExpiring) setExpiring(data.pointsExpiring);
  }, [data]);
  return { expiring, dismissExpiring: () => setExpiring(null) };
}
