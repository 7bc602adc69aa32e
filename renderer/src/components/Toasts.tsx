import { useEffect } from 'react';
import type { DeskNotification } from '../../../preload/desk-model';
import { useToasts } from '../stores/toasts-store';

/** How long a "finished" toast stays; failures and drift stay until dismissed. */
export const FINISHED_TOAST_MS = 15_000;

/** The page's notifications (the desktop shows Electron's from the same model). */
export function Toasts() {
  const toasts = useToasts((s) => s.toasts);
  return (
    <div className="toasts" role="region" aria-label="Notifications">
      {toasts.map((t) => (
        <Toast key={t.key} toast={t} />
      ))}
    </div>
  );
}

function Toast({ toast }: { readonly toast: DeskNotification }) {
  const dismiss = useToasts((s) => s.dismiss);
  useEffect(() => {
    if (toast.kind !== 'finished') return;
    const t = setTimeout(() => dismiss(toast.key), FINISHED_TOAST_MS);
    return () => clearTimeout(t);
  }, [toast, dismiss]);
  return (
    <div className={`toast toast-${toast.kind}`} role={toast.kind === 'failed' ? 'alert' : 'status'}>
      <div className="toast-text">
        <strong className="toast-title">{toast.title}</strong>
        <span className="toast-body">{toast.body}</span>
      </div>
      <button type="button" className="icon-button" aria-label={`Dismiss ${toast.title}`} onClick={() => dismiss(toast.key)}>
        <span aria-hidden="true">×</span>
      </button>
    </div>
  );
}
