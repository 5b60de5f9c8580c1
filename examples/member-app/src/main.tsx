import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { ApolloProvider } from '@apollo/client/react';
import { createExampleClient } from '../../shared/client';
import { readSession } from '../../shared/session';
import { TokenGate } from '../../shared/TokenGate';
import { App } from './App';
import '../../shared/style.css';

const session = readSession('member');
const client = session.token ? createExampleClient(session) : null;

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <TokenGate storageKey="member" role="member" token={session.token}>
      {client && (
        <ApolloProvider client={client.apollo}>
          <App client={client} />
        </ApolloProvider>
      )}
    </TokenGate>
  </StrictMode>,
);
