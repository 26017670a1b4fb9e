import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { SessionProvider } from './session/session';
import './styles.css';

// graphql-ws rejects an internal promise with the CloseEvent when the server refuses a connection (4401 for
// a revoked token); the client already handles that close (it ends the session), so it is not an app error.
addEventListener('unhandledrejection', (e) => {
  if (e.reason instanceof CloseEvent) e.preventDefault();
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <SessionProvider>
      <App />
    </SessionProvider>
  </StrictMode>,
);
