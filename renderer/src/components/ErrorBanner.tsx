import type { ReactNode } from 'react';
import type { ErrorData } from '../../../preload/contract';
import { errorLocation } from '../lib/format';

interface Props {
  readonly title: string;
  readonly error: ErrorData;
  readonly onDismiss?: () => void;
  /** Remedies (buttons) shown under the message. */
  readonly children?: ReactNode;
  /** Louder styling for errors that may be an attack (a changed host key). */
  readonly severity?: 'error' | 'critical';
}

/** An error as an alert: what failed, main's message, the hint, and where (path:line, field, host). */
export function ErrorBanner({ title, error, onDismiss, children, severity = 'error' }: Props) {
  const where = errorLocation(error);
  return (
    <div role="alert" className={`banner banner-${severity}`} data-code={error.code}>
      <div className="banner-body">
        <p className="banner-title">
          <strong>{title}</strong> <code className="banner-code">{error.code}</code>
        </p>
        <p className="banner-message">{error.message}</p>
        {error.hint ? <p className="banner-hint">{error.hint}</p> : null}
        {where ? <p className="banner-where">{where}</p> : null}
        {children ? <div className="banner-actions">{children}</div> : null}
      </div>
      {onDismiss ? (
        <button type="button" className="icon-button" aria-label="Dismiss" onClick={onDismiss}>
          <span aria-hidden="true">×</span>
        </button>
      ) : null}
    </div>
  );
}
