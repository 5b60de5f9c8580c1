import { useEffect, useState } from 'react';
import type { ConnectionState, ExampleClient } from './client';

const LABELS: Record<ConnectionState, string> = { connecting: 'connecting…', online: 'live', reconnecting: 'reconnecting…', offline: 'offline' };

/** The socket's state, always visible: a user trusts a live number only when it says it is live. */
export function ConnectionDot({ client }: { client: ExampleClient }) {
  const [state, setState] = useState<ConnectionState>('connecting');
  useEffect(() => client.onState(setState), [client]);
  return (
    <span className={`conn conn-${state}`} data-testid="connection" data-state={state}>
      ● {LABELS[state]}
    </span>
  );
}
