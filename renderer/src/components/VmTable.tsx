import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useCallback, useMemo, useRef, useState, type CSSProperties } from 'react';
import type { VmAction, VmView } from '../../../preload/contract';
import { formatMemory, formatTimestamp } from '../lib/format';
import { VmStateBadge } from './StatusBadge';
import { VmActionMenu } from './VmActionMenu';

const ROW_HEIGHT = 36;
const HEADER_HEIGHT = 32;
const COLUMNS = ['Name', 'Role', 'State', 'IP', 'vCPU', 'Memory', 'GPUs', 'Last seen', 'Drift', 'Actions'] as const;

interface Props {
  readonly vms: readonly VmView[];
  readonly busy: boolean;
  readonly onAction: (vm: string, action: VmAction) => void;
}

/**
 * The VMs as an ARIA table whose rows are virtualized: only the visible rows (plus overscan) are in the DOM, so 10,000
 * VMs scroll as smoothly as ten. `aria-rowcount` / `aria-rowindex` tell assistive technology the true size.
 */
export function VmTable({ vms, busy, onAction }: Props) {
  const [filter, setFilter] = useState('');
  const [menu, setMenu] = useState<{ readonly name: string; readonly anchor: DOMRect } | null>(null);
  const scrollRef = useRef<HTMLDivElement>(null);

  const rows = useMemo(() => {
    const f = filter.trim().toLowerCase();
    if (!f) return vms;
    return vms.filter((v) => v.name.toLowerCase().includes(f) || v.state.toLowerCase().includes(f) || (v.ipAddress ?? '').includes(f) || v.role.includes(f));
  }, [vms, filter]);

  // Stable while the rows are: the virtualizer recomputes every row's offset when its key function changes, which
  // would otherwise happen on each scroll frame.
  const getItemKey = useCallback((i: number) => rows[i]?.name ?? i, [rows]);
  // One callback for every row, so a row whose VM did not change (same object after a patch) skips rendering.
  const onMenu = useCallback((name: string, anchor: DOMRect) => setMenu({ name, anchor }), []);
  const menuVm = menu ? vms.find((v) => v.name === menu.name) : undefined;

  // The React Compiler is not used here, and the virtualizer re-renders this component on scroll by itself.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
    // Rows start below the sticky header inside the same scroll container.
    scrollMargin: HEADER_HEIGHT,
    getItemKey,
  });

  return (
    <section className="panel-section" aria-labelledby="vms-title">
      <div className="section-head">
        <h3 id="vms-title">Virtual machines ({vms.length})</h3>
        <span className="spacer" />
        <label className="filter">
          <span className="visually-hidden">Filter VMs</span>
          <input type="search" placeholder="Filter by name, state, IP" value={filter} onChange={(e) => setFilter(e.target.value)} />
        </label>
      </div>
      {vms.length === 0 ? (
        <p className="muted">No VMs recorded. Start the cluster to create them.</p>
      ) : (
        <div className="vtable" role="table" aria-label="Virtual machines" aria-rowcount={rows.length + 1}>
          {/* One scroll container for both axes, with a sticky header, so header and rows always line up. */}
          <div ref={scrollRef} className="vscroll" onScroll={() => setMenu(null)}>
            <div role="rowgroup" className="vhead">
              <div role="row" aria-rowindex={1} className="vrow vm-grid">
                {COLUMNS.map((c) => (
                  <div role="columnheader" key={c} className="vcell">
                    {c === 'Actions' ? <span className="visually-hidden">Actions</span> : c}
                  </div>
                ))}
              </div>
            </div>
            <div role="rowgroup" className="vspacer" style={{ height: virtualizer.getTotalSize() }}>
              {virtualizer.getVirtualItems().map((item) => {
                const vm = rows[item.index];
                if (!vm) return null;
                return (
                  <VmRow
                    key={item.key}
                    vm={vm}
                    index={item.index}
                    start={item.start}
                    size={item.size}
                    busy={busy}
                    menuOpen={menu?.name === vm.name}
                    onMenu={onMenu}
                  />
                );
              })}
            </div>
          </div>
        </div>
      )}
      {menu && menuVm ? (
        <VmActionMenu
          vm={menuVm}
          anchor={menu.anchor}
          onClose={() => setMenu(null)}
          onAction={(action) => {
            setMenu(null);
            onAction(menuVm.name, action);
          }}
        />
      ) : null}
    </section>
  );
}

interface RowProps {
  readonly vm: VmView;
  readonly index: number;
  readonly start: number;
  readonly size: number;
  readonly busy: boolean;
  readonly menuOpen: boolean;
  readonly onMenu: (name: string, anchor: DOMRect) => void;
}

/** How many trailing characters of a name never shrink: the end is what tells `big-compute-0991` from `-0992`. */
const NAME_TAIL = 8;
// Layout of the two halves, set through CSSOM like the rows' geometry (kept here so the table is self-contained).
const TRUNC: CSSProperties = { display: 'flex', minWidth: 0, maxWidth: '100%' };
const TRUNC_HEAD: CSSProperties = { flex: '0 1 auto', minWidth: 0, overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' };
const TRUNC_TAIL: CSSProperties = { flex: '0 0 auto', whiteSpace: 'nowrap' };

/**
 * A name cut in the middle when the column is narrow: the head shrinks with an ellipsis, the tail stays whole; the
 * whole name is the cell's title (and its text, for copy and assistive technology).
 */
export function MiddleTruncate({ text }: { readonly text: string }) {
  if (text.length <= NAME_TAIL + 3) return <span style={TRUNC_HEAD}>{text}</span>;
  return (
    <span style={TRUNC}>
      <span style={TRUNC_HEAD}>{text.slice(0, -NAME_TAIL)}</span>
      <span style={TRUNC_TAIL}>{text.slice(-NAME_TAIL)}</span>
    </span>
  );
}

/** Rows re-render only when their VM (the same object unless a patch changed it), place or state of the menu changes. */
const VmRow = memo(function VmRow({ vm, index, start, size, busy, menuOpen, onMenu }: RowProps) {
  return (
    <div
      role="row"
      aria-rowindex={index + 2}
      className={vm.drift ? 'vrow vm-grid drifted' : 'vrow vm-grid'}
      // Dynamic geometry from the virtualizer; set through CSSOM, which the CSP's style-src allows.
      style={{ height: size, transform: `translateY(${start - HEADER_HEIGHT}px)` }}
    >
      {/* Named by the whole name: the two halves of a cut name are one word, not two. */}
      <div role="cell" className="vcell mono" title={vm.name} aria-label={vm.name}>
        <MiddleTruncate text={vm.name} />
      </div>
      <div role="cell" className="vcell">
        {vm.role}
      </div>
      <div role="cell" className="vcell">
        <VmStateBadge state={vm.state} />
      </div>
      <div role="cell" className="vcell mono">
        {vm.ipAddress ?? '—'}
        {vm.ipAddress && !vm.ipVerified ? (
          <span
            className="muted small"
            role="img"
            aria-label="unverified"
            title="The configured address; libvirt could not confirm it (no DHCP lease or guest agent answer)"
          >
            {' '}
            ?
          </span>
        ) : null}
      </div>
      <div role="cell" className="vcell num">
        {vm.cpuCores}
      </div>
      <div role="cell" className="vcell num">
        {formatMemory(vm.memoryGb)}
      </div>
      <div role="cell" className="vcell num">
        {vm.gpuCount}
      </div>
      <div role="cell" className="vcell time">
        {formatTimestamp(vm.lastSeen)}
      </div>
      <div role="cell" className="vcell" title={vm.drift}>
        {vm.drift ? (
          <span className="drift-mark">
            <span aria-hidden="true">⚠ </span>
            {vm.drift}
          </span>
        ) : null}
      </div>
      <div role="cell" className="vcell">
        <button
          type="button"
          className="icon-button"
          aria-label={`Actions for ${vm.name}`}
          aria-haspopup="menu"
          aria-expanded={menuOpen}
          disabled={busy}
          onClick={(e) => onMenu(vm.name, e.currentTarget.getBoundingClientRect())}
        >
          <svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true" focusable="false">
            <circle cx="3" cy="8" r="1.5" fill="currentColor" />
            <circle cx="8" cy="8" r="1.5" fill="currentColor" />
            <circle cx="13" cy="8" r="1.5" fill="currentColor" />
          </svg>
        </button>
      </div>
    </div>
  );
});
