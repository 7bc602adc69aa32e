import { VirtualList } from './VirtualList';

/** A titled list of resource names with its count (the destroy dialog's resources, an import's added/removed/changed). */
export function NameList({
  title,
  label,
  items,
  className,
  whenEmpty,
}: {
  readonly title: string;
  /** The section's accessible name. */
  readonly label: string;
  readonly items: readonly string[];
  readonly className?: string;
  /** `hide`: render nothing for no items; `none`: say "None". */
  readonly whenEmpty: 'hide' | 'none';
}) {
  if (items.length === 0 && whenEmpty === 'hide') return null;
  return (
    <section className={className} aria-label={label}>
      <h3>
        {title} ({items.length})
      </h3>
      {items.length === 0 ? (
        <p className="muted">None</p>
      ) : (
        // A destroy or import of 10,000 VMs lists them in a scrolling window, not 10,000 list items.
        <VirtualList label={title} items={items} getKey={(i) => i} render={(i) => <span className="mono">{i}</span>} />
      )}
    </section>
  );
}
