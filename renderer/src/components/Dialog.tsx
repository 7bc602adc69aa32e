import { useEffect, useId, useRef, useState, type ReactNode } from 'react';

interface Props {
  readonly title: string;
  readonly onClose: () => void;
  readonly children: ReactNode;
  /** The dialog's buttons, right-aligned at the bottom. */
  readonly actions: ReactNode;
  readonly wide?: boolean;
}

/**
 * A modal dialog on the native `<dialog>` element: `showModal()` gives focus trapping, the top layer, inert
 * background and Escape for free. Escape and the backdrop route through `onClose` so React state stays the truth.
 */
export function Dialog({ title, onClose, children, actions, wide = false }: Props) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const onCloseRef = useRef(onClose);
  useEffect(() => {
    onCloseRef.current = onClose;
  });

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (!el.open) el.showModal();
    const onCancel = (e: Event) => {
      e.preventDefault();
      onCloseRef.current();
    };
    el.addEventListener('cancel', onCancel);
    return () => {
      el.removeEventListener('cancel', onCancel);
      if (el.open) el.close();
      // Give focus back to whatever opened the dialog, as a menu or native dialog would.
      opener?.focus();
    };
  }, []);

  return (
    <dialog ref={ref} className={wide ? 'dialog dialog-wide' : 'dialog'} aria-modal="true" aria-labelledby={titleId}>
      <h2 id={titleId} className="dialog-title">
        {title}
      </h2>
      <div className="dialog-body">{children}</div>
      <div className="dialog-actions">{actions}</div>
    </dialog>
  );
}

interface ConfirmProps {
  readonly title: string;
  readonly confirmLabel: string;
  readonly danger?: boolean;
  readonly disabled?: boolean;
  /** A word the user must type before the confirm button works (for what cannot be undone); Enter then submits. */
  readonly typed?: string;
  readonly wide?: boolean;
  readonly onConfirm: () => void;
  readonly onCancel: () => void;
  readonly children: ReactNode;
}

/**
 * Confirmation. Without `typed`, the safe choice (Cancel) comes first and gets focus; with `typed`, the field gets
 * focus and Enter submits once it matches. Escape cancels either way, and focus goes back to the opener.
 */
export function ConfirmDialog({ title, confirmLabel, danger = false, disabled = false, typed, wide = false, onConfirm, onCancel, children }: ConfirmProps) {
  const formId = useId();
  const inputId = useId();
  const [text, setText] = useState('');
  const blocked = disabled || (typed !== undefined && text !== typed);
  return (
    <Dialog
      title={title}
      wide={wide}
      onClose={onCancel}
      actions={
        <>
          <button type="button" onClick={onCancel} autoFocus={typed === undefined}>
            Cancel
          </button>
          <button type="submit" form={formId} className={danger ? 'danger' : 'primary'} disabled={blocked}>
            {confirmLabel}
          </button>
        </>
      }
    >
      <form
        id={formId}
        onSubmit={(e) => {
          e.preventDefault();
          if (!blocked) onConfirm();
        }}
      >
        {children}
        {typed !== undefined ? (
          <div className="typed-confirm">
            <label htmlFor={inputId}>
              Type <strong className="mono">{typed}</strong> to confirm
            </label>
            <input id={inputId} type="text" autoFocus autoComplete="off" spellCheck={false} value={text} onChange={(e) => setText(e.target.value)} />
          </div>
        ) : null}
      </form>
    </Dialog>
  );
}
