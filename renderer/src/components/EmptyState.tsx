import { useState } from 'react';
import { createDemo } from '../stores/actions';

/** First run: what a workspace is, and two one-click demos that need nothing installed but libvirt / a shell. */
export function EmptyState() {
  return (
    <section className="empty-state" aria-labelledby="empty-title">
      <h2 id="empty-title">No workspaces yet</h2>
      <p>A workspace is a deployment whose state file Clusterdesk tracks. Add one from the panel on the left:</p>
      <ul>
        <li>
          a folder containing <code>refedez.yaml</code> opens a <strong>federation</strong> (federated learning over SSH);
        </li>
        <li>
          a folder or file with an AI-HOW <code>cluster.yaml</code> opens a <strong>cluster</strong> (libvirt VMs).
        </li>
      </ul>
      <p>Or try one out first:</p>
      <DemoButtons primary />
    </section>
  );
}

/**
 * The two demo buttons. Shown in the empty state, and in the sidebar once workspaces exist — never both at once, so
 * each accessible name stays unique on the page.
 */
export function DemoButtons({ primary = false }: { readonly primary?: boolean }) {
  const [busy, setBusy] = useState<'cluster' | 'federation' | null>(null);
  const run = async (kind: 'cluster' | 'federation') => {
    setBusy(kind);
    try {
      await createDemo(kind);
    } finally {
      setBusy(null);
    }
  };
  const cls = primary ? 'primary' : undefined;
  return (
    <div className="row" aria-busy={busy !== null}>
      <button type="button" className={cls} disabled={busy !== null} onClick={() => void run('cluster')}>
        Create demo cluster
      </button>
      <button type="button" className={cls} disabled={busy !== null} onClick={() => void run('federation')}>
        Create demo federation
      </button>
    </div>
  );
}
