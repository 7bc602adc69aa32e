import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { missingToken } from './bridge';
import { App } from './components/App';
import { initTheme } from './lib/theme';
import './styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('#root is missing from index.html');
initTheme();
createRoot(root).render(
  <StrictMode>
    {missingToken() ? (
      <main className="missing-token">
        <h1>Clusterdesk</h1>
        <p role="alert">
          This page needs its access token. Open the URL printed by <code>npm run serve</code> — it ends in <code>#token=…</code>.
        </p>
      </main>
    ) : (
      <App />
    )}
  </StrictMode>,
);
