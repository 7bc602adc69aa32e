import { useEffect, useRef, type KeyboardEvent } from 'react';
import type { VmAction, VmView } from '../../../preload/contract';
import { VM_ACTIONS, vmActionsFor } from '../lib/vm-actions';

interface Props {
  readonly vm: VmView;
  readonly anchor: DOMRect;
  readonly onAction: (action: VmAction) => void;
  readonly onClose: () => void;
}

/**
 * The per-VM action menu (WAI-ARIA menu button pattern). Actions libvirt would refuse in the VM's state are shown
 * disabled rather than hidden, so the menu's shape does not jump between VMs.
 */
export function VmActionMenu({ vm, anchor, onAction, onClose }: Props) {
  const ref = useRef<HTMLDivElement>(null);
  const allowed = new Set(vmActionsFor(vm.state));
  const opener = useRef<Element | null>(document.activeElement);

  useEffect(() => {
    const first = ref.current?.querySelector<HTMLButtonElement>('[role="menuitem"]:not([disabled])');
    (first ?? ref.current)?.focus();
    const onDown = (e: MouseEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) onClose();
    };
    document.addEventListener('mousedown', onDown);
    const back = opener.current;
    return () => {
      document.removeEventListener('mousedown', onDown);
      if (back instanceof HTMLElement && back.isConnected) back.focus();
    };
  }, [onClose]);

  const onKeyDown = (e: KeyboardEvent) => {
    const items = [...(ref.current?.querySelectorAll<HTMLButtonElement>('[role="menuitem"]:not([disabled])') ?? [])];
    const i = items.indexOf(document.activeElement as HTMLButtonElement);
    let next: HTMLButtonElement | undefined;
    if (e.key === 'ArrowDown') next = items[(i + 1) % items.length];
    else if (e.key === 'ArrowUp') next = items[(i - 1 + items.length) % items.length];
    else if (e.key === 'Home') next = items[0];
    else if (e.key === 'End') next = items[items.length - 1];
    else if (e.key === 'Escape' || e.key === 'Tab') {
      e.preventDefault();
      onClose();
      return;
    } else return;
    e.preventDefault();
    next?.focus();
  };

  // Below the button, right-aligned to it, kept inside the viewport.
  const top = Math.min(anchor.bottom + 4, window.innerHeight - 230);
  const right = Math.max(8, window.innerWidth - anchor.right);

  return (
    <div ref={ref} role="menu" aria-label={`Actions for ${vm.name}`} className="menu" tabIndex={-1} style={{ top, right }} onKeyDown={onKeyDown}>
      <div className="menu-caption" aria-hidden="true">
        {vm.name} · {vm.state}
      </div>
      {VM_ACTIONS.map(({ action, label }) => (
        <button key={action} type="button" role="menuitem" className="menu-item" disabled={!allowed.has(action)} onClick={() => onAction(action)}>
          {label}
        </button>
      ))}
      {allowed.size === 0 ? <div className="menu-caption">No actions in this state</div> : null}
    </div>
  );
}
