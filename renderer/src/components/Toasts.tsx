import { useToasts } from '../stores/toasts-store';

/** The page's notifications (the desktop shows Electron's from the same model): they stay until dismissed. */
export function Toasts() {
  const toasts = useToasts((s) => s.toasts);
  const dismiss = useToasts((s) => s.dismiss);
  return (
    <div className="toasts" role="region" aria-label="Notifications">
      {toasts.map((t) => (
        <div key={t.key} className={`toast toast-${t.kind}`} role={t.kind === 'failed' ? 'alert' : 'status'}>
          <div className="toast-text">
            <strong className="toast-title">{t.title}</strong>
            <span className="toast-body">{t.body}</span>
          </div>
          <button type="button" className="icon-button" aria-label={`Dismiss ${t.title}`} onClick={() => dismiss(t.key)}>
            <span aria-hidden="true">×</span>
          </button>
        </div>
      ))}
    </div>
  );
}
