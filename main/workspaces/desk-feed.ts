import type { EventMap, EventName, TrayClickResult, TrayTemplate, WorkspaceEntry, WorkspaceSnapshot } from '../../preload/contract';
import { applyDeskEvent, EMPTY_DESK, findTrayItem, refreshAllTargets, trayTemplate, type DeskState } from '../../preload/tray-template';
import { AppError } from '../errors';
import { dispatch, type HandlerTable } from '../ipc/dispatch';
import type { EventHub } from '../ipc/events';

export interface DeskSeed {
  list(): readonly WorkspaceEntry[];
  snapshot(id: string): Promise<WorkspaceSnapshot>;
}

/**
 * The host's memory of what it has announced: every event the hub emits is folded into a `DeskState` (pure, see
 * preload/tray-template.ts), and the tray template is built from that — never by re-reading state files. Each
 * workspace is read once when the feed first needs it (start-up, or when the workspace is added); after that only
 * events move it.
 */
export class DeskFeed {
  private state: DeskState = EMPTY_DESK;
  private started: Promise<void> | null = null;
  private readonly listeners = new Set<(state: DeskState) => void>();
  private readonly unsubscribe: () => void;

  constructor(
    events: EventHub,
    private readonly seed: DeskSeed,
  ) {
    this.unsubscribe = events.subscribe((event, payload) => this.apply(event, payload));
  }

  /** Reads the workspaces not yet heard of, once (idempotent); later additions are read as they are announced. */
  start(): Promise<void> {
    this.started ??= (async () => {
      this.apply('workspaces:changed', this.seed.list());
      await this.seedMissing();
    })();
    return this.started;
  }

  /** The template, after the first read (`start`). */
  async template(): Promise<TrayTemplate> {
    await this.start();
    return trayTemplate(this.state);
  }

  current(): DeskState {
    return this.state;
  }

  /** Called with the new state after every change; returns the unsubscribe function. */
  onChange(listener: (state: DeskState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  dispose(): void {
    this.unsubscribe();
    this.listeners.clear();
  }

  private apply<E extends EventName>(event: E, payload: EventMap[E]): void {
    if (event === 'bundle:opened') return;
    const next = applyDeskEvent(this.state, event, payload);
    // Progress events of a running operation change nothing the tray shows: no rebuild for each of them.
    if (next === this.state) return;
    this.state = next;
    for (const l of this.listeners) l(this.state);
    if (event === 'workspaces:changed' && this.started) void this.seedMissing();
  }

  private async seedMissing(): Promise<void> {
    const missing = this.state.entries.filter((e) => !this.state.snapshots[e.id]);
    await Promise.all(
      missing.map(async (e) => {
        const snap = await this.seed.snapshot(e.id).catch(() => null);
        // A snapshot announced meanwhile is newer than this read.
        if (snap && !this.state.snapshots[e.id] && this.state.entries.some((x) => x.id === e.id))
          this.apply('workspace:changed', { id: e.id, seq: snap.seq ?? 0, snapshot: snap });
      }),
    );
  }
}

/** What the Electron glue does for the items that are not invokes (`serve` has neither a window nor a quit). */
export interface TrayUi {
  show(): void;
  quit(): void;
}

/**
 * Runs a tray item: the same handler-table call the window's button makes (so the same validation, rule and
 * `operate()`), after checking the item is enabled in the template the host shows now. Answers when the invoked
 * operations have ended; a refusal or failure is thrown as its AppError.
 */
export async function runTrayItem(table: HandlerTable, feed: DeskFeed, itemId: string, ui: TrayUi | null): Promise<TrayClickResult> {
  const template = await feed.template();
  const item = findTrayItem(template.items, itemId);
  if (!item || !item.action)
    throw new AppError('not-found', `The tray has no item ${JSON.stringify(itemId)}.`, { hint: 'Read app:tray-template for the current ids.' });
  if (!item.enabled) throw new AppError('state-wrong-status', item.reason ?? `${item.label} is not available now.`);
  const action = item.action;
  switch (action.kind) {
    case 'open':
    case 'quit':
      if (!ui)
        throw new AppError('unsupported', `The headless host has no ${action.kind === 'open' ? 'window to open: this page is it' : 'tray to quit from'}.`);
      if (action.kind === 'open') ui.show();
      else ui.quit();
      return { itemId, invoked: [] };
    case 'invoke': {
      const r = await dispatch(table, action.channel, { workspaceId: action.workspaceId });
      if (!r.ok) throw AppError.fromData(r.error);
      return { itemId, invoked: [{ channel: action.channel, workspaceId: action.workspaceId, opId: opIdOf(r.value) }] };
    }
    case 'refresh-all': {
      const state = feed.current();
      const busy = (id: string) => Boolean(state.running[id] || state.snapshots[id]?.operation);
      const targets = refreshAllTargets(state.entries, (id) => state.snapshots[id], busy);
      const results = await Promise.all(targets.map(async (t) => ({ t, r: await dispatch(table, t.channel, { workspaceId: t.workspaceId }) })));
      return { itemId, invoked: results.map(({ t, r }) => ({ channel: t.channel, workspaceId: t.workspaceId, opId: r.ok ? opIdOf(r.value) : null })) };
    }
  }
}

function opIdOf(value: unknown): string | null {
  const id = typeof value === 'object' && value !== null ? (value as { opId?: unknown }).opId : undefined;
  return typeof id === 'string' ? id : null;
}
