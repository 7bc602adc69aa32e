import { useId, type ReactNode } from 'react';

/**
 * A button the rule may disable. Disabled through `aria-disabled` (not `disabled`), so it stays focusable and its
 * reason — the rule's sentence — shows as a tooltip on hover and on keyboard focus, and is its accessible description.
 */
export function ActionButton({
  reason,
  onRun,
  className,
  children,
  label,
  shortcuts,
}: {
  /** Why the action is not available now; undefined when it is. */
  readonly reason: string | undefined;
  readonly onRun: () => void;
  readonly className?: string;
  readonly children: ReactNode;
  readonly label?: string;
  readonly shortcuts?: string;
}) {
  const tipId = useId();
  const disabled = reason !== undefined;
  return (
    <span className="action-wrap">
      <button
        type="button"
        className={className}
        aria-label={label}
        aria-disabled={disabled ? 'true' : undefined}
        aria-describedby={disabled ? tipId : undefined}
        aria-keyshortcuts={shortcuts}
        onClick={() => {
          if (!disabled) onRun();
        }}
      >
        {children}
      </button>
      {disabled ? (
        <span role="tooltip" id={tipId} className="tip">
          {reason}
        </span>
      ) : null}
    </span>
  );
}
