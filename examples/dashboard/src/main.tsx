import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { ApolloProvider } from '@apollo/client/react';
import { createExampleClient } from '../../shared/client';
import { readSession } from '../../shared/session';
import { TokenGate } from '../../shared/TokenGate';
import { Dashboard } from './Dashboard';
import 'uplot/dist/uPlot.min.css';
import '../../shared/style.css';

const session = readSession('admin');
const client = session.token ? createExampleClient(session) : null;

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <TokenGate storageKey="admin" role="admin" token={session.token}>
      {client && (
        <ApolloProvider client={client.apollo}>
          <Dashboard client={client} />
        </ApolloProvider>
      )}
    </TokenGate>
  </StrictMode>,
);
