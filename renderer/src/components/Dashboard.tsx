import type { WorkspaceEntry, WorkspaceSnapshot } from '../../../preload/contract';
import { outcomeSummary, snapshotDrift } from '../../../preload/desk-model';
import { operationLabel } from '../../../preload/operation-labels';
import { quickActions, refreshAllTargets } from '../../../preload/tray-template';
import { reasonOf } from '../../../preload/workspace-actions';
import { displayStatus } from '../lib/status';
import { runOperation } from '../stores/actions';
import { useNav } from '../stores/nav-store';
import { useOperations } from '../stores/operations-store';
import { isBusy } from '../stores/reducers';
import { useSnapshots } from '../stores/snapshots-store';
import { useTasks } from '../stores/tasks-store';
import { useWorkspaces } from '../stores/workspaces-store';
import { ActionButton } from './ActionButton';
import { KindIcon } from './KindIcon';
import { StatusBadge } from './StatusBadge';

/** Refresh (F5 / Ctrl+R) reaches the first enabled button marked with this shortcut in the view. */
export const REFRESH_SHORTCUTS = 'F5 Control+R';

/**
 * The home screen: one card per workspace with its status, drift, last operation and lock, and the quick actions the
 * one rule (preload/workspace-actions.ts, also the tray's) allows. Opening a card shows the workspace's view.
 */
export function Dashboard() {
  const entries = useWorkspaces((s) => s.entries);
  const snapshots = useSnapshots((s) => s.byId);
  const ops = useOperations((s) => s.byWorkspace);
  const busy = (id: string) => isBusy(ops[id], snapshots[id]);
  const refreshable = refreshAllTargets(entries, (id) => snapshots[id], busy);
  return (
    <section className="dashboard" aria-labelledby="dashboard-title">
      <div className="section-head">
        <h2 id="dashboard-title">Dashboard</h2>
        <span className="spacer" />
        <ActionButton
          reason={refreshable.length === 0 ? 'No workspace can be refreshed or probed now.' : undefined}
          shortcuts={REFRESH_SHORTCUTS}
          onRun={() => {
            for (const t of refreshable) void runOperation(t.channel, { workspaceId: t.workspaceId });
          }}
        >
          Refresh all
        </ActionButton>
      </div>
      <ul className="cards" aria-label="Workspace cards">
        {entries.map((e) => (
          <WorkspaceCard key={e.id} entry={e} snapshot={snapshots[e.id]} busy={busy(e.id)} />
        ))}
      </ul>
    </section>
  );
}

function WorkspaceCard({
  entry,
  snapshot,
  busy,
}: {
  readonly entry: WorkspaceEntry;
  readonly snapshot: WorkspaceSnapshot | undefined;
  readonly busy: boolean;
}) {
  const history = useTasks((s) => s.history[entry.id]);
  const running = useTasks((s) => s.tasks.find((t) => t.workspaceId === entry.id && !t.finished));
  const open = useNav((s) => s.open);
  const drift = history?.drift ?? snapshotDrift(snapshot);
  const last = history?.last ?? null;
  const titleId = `card-title-${entry.id}`;
  const actions = quickActions(snapshot, entry.kind, busy);
  return (
    <li className="card">
      <article aria-labelledby={titleId}>
        <div className="card-head">
          <KindIcon kind={entry.kind} />
          <h3 id={titleId} className="card-title">
            {entry.name}
          </h3>
          <span className="muted small">{entry.kind}</span>
          <span className="spacer" />
          <StatusBadge status={displayStatus(snapshot)} operation={snapshot?.operation?.name ?? null} />
          {drift ? (
            <span className="badge badge-warn" title={drift.summary} aria-label={`Drift: ${drift.summary}`}>
              drift: {drift.count}
            </span>
          ) : null}
        </div>
        <dl className="card-facts">
          <dt>Last operation</dt>
          <dd className="card-last">
            {running ? (
              <>{operationLabel(running.operation)}… (running)</>
            ) : last ? (
              <>
                {operationLabel(last.operation)} — {last.ok ? outcomeSummary(last) : `failed: ${last.error?.message ?? 'unknown error'}`}
              </>
            ) : snapshot?.operation ? (
              <>{operationLabel(snapshot.operation.name)}… (running)</>
            ) : (
              <span className="muted">None since this page opened</span>
            )}
          </dd>
          {snapshot?.lock ? (
            <>
              <dt>Lock</dt>
              <dd>
                {snapshot.lock.operation} by pid {snapshot.lock.pid} on {snapshot.lock.host}
                {snapshot.lock.stale ? ' (stale)' : ''}
              </dd>
            </>
          ) : null}
          {snapshot?.error ? (
            <>
              <dt>State</dt>
              <dd className="card-error">
                {snapshot.error.code}: {snapshot.error.message}
              </dd>
            </>
          ) : null}
        </dl>
        <div className="card-actions" role="toolbar" aria-label={`${entry.name} actions`}>
          {actions.map((a) => (
            <ActionButton key={a.channel} reason={reasonOf(a.verdict)} onRun={() => void runOperation(a.channel, { workspaceId: entry.id })}>
              {a.label}
            </ActionButton>
          ))}
          <span className="spacer" />
          <button type="button" className="primary" aria-label={`Open ${entry.name}`} onClick={() => open(entry.id)}>
            Open
          </button>
        </div>
      </article>
    </li>
  );
}
