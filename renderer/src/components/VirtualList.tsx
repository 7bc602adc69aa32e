import { useVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useRef, type ReactNode } from 'react';

interface Props<T> {
  readonly items: readonly T[];
  readonly label: string;
  readonly className?: string;
  readonly getKey: (item: T) => string;
  readonly render: (item: T) => ReactNode;
  /** Up to this many items render as a plain list; more scroll in a box of this many rows, only the visible ones in the DOM. */
  readonly maxRows?: number;
  readonly rowHeight?: number;
}

/**
 * A list whose DOM stays the size of its window: short lists render plainly, long ones (a volume per VM, a drift item
 * per VM) are virtualized, so 10,000 entries cost what a dozen do. `aria-setsize` / `aria-posinset` keep the true size.
 */
export function VirtualList<T>(props: Props<T>) {
  const { items, label, className, getKey, render, maxRows = 12 } = props;
  if (items.length <= maxRows) {
    return (
      <ul className={className} aria-label={label}>
        {items.map((item) => (
          <li key={getKey(item)}>{render(item)}</li>
        ))}
      </ul>
    );
  }
  return <WindowedList {...props} />;
}

function WindowedList<T>({ items, label, className, getKey, render, maxRows = 12, rowHeight = 24 }: Props<T>) {
  const scrollRef = useRef<HTMLDivElement>(null);
  // Stable across scroll renders (a new key function makes the virtualizer recompute every offset).
  const itemKey = useCallback((i: number) => (items[i] !== undefined ? getKey(items[i]) : i), [items, getKey]);
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count: items.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => rowHeight,
    overscan: 6,
    getItemKey: itemKey,
  });
  return (
    // Geometry from the virtualizer, set through CSSOM (which the CSP's style-src allows).
    <div ref={scrollRef} style={{ maxHeight: maxRows * rowHeight, overflowY: 'auto', position: 'relative' }}>
      <ul className={className} aria-label={label} style={{ height: virtualizer.getTotalSize(), position: 'relative', marginTop: 0, marginBottom: 0 }}>
        {virtualizer.getVirtualItems().map((v) => {
          const item = items[v.index];
          if (item === undefined) return null;
          return (
            <li
              key={v.key}
              aria-setsize={items.length}
              aria-posinset={v.index + 1}
              style={{
                position: 'absolute',
                top: 0,
                left: 0,
                right: 0,
                height: v.size,
                margin: 0,
                transform: `translateY(${v.start}px)`,
                whiteSpace: 'nowrap',
                overflow: 'hidden',
                textOverflow: 'ellipsis',
              }}
            >
              {render(item)}
            </li>
          );
        })}
      </ul>
    </div>
  );
}
