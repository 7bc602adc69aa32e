import { useEffect, useState } from 'react';
import { outcomeSummary } from '../../../preload/desk-model';
import { operationLabel } from '../../../preload/operation-labels';
import { cancelOperation } from '../stores/actions';
import { useNav } from '../stores/nav-store';
import { elapsedText, taskRows, taskState, type Task } from '../stores/tasks';
import { useTasks } from '../stores/tasks-store';
import { useWorkspaces } from '../stores/workspaces-store';
import { Outcomes, ProgressLine } from './OperationPanel';
import { VirtualList } from './VirtualList';

/** The toggle's shortcuts (the App's key handler implements them). */
export const TASKS_SHORTCUTS = 'T Control+Shift+T';

/** Progress rows in view per task; more scroll in a window (a 10,000-VM start keeps a DOM of this size). */
const VISIBLE_ROWS = 8;

/** A clock that ticks once a second while `active`, for elapsed times. */
function useNow(active: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [active]);
  return now;
}

/** Every operation this page heard of: id, progress per VM / machine, elapsed time, Cancel, and how it ended. */
export function TaskList() {
  const tasks = useTasks((s) => s.tasks);
  const toggle = useNav((s) => s.toggleTasks);
  const now = useNow(tasks.some((t) => !t.finished));
  return (
    <aside id="task-list" className="task-list" aria-labelledby="task-list-title">
      <div className="section-head">
        <h2 id="task-list-title">Tasks</h2>
        <span className="spacer" />
        <button type="button" className="icon-button" aria-label="Close task list" aria-keyshortcuts={TASKS_SHORTCUTS} onClick={() => toggle(false)}>
          <span aria-hidden="true">×</span>
        </button>
      </div>
      {tasks.length === 0 ? (
        <p className="muted">No operations yet. Start, stop, refresh… from the dashboard or a workspace, and they appear here.</p>
      ) : (
        <ol className="tasks" aria-label="Operations">
          {tasks.map((t) => (
            <TaskItem key={t.opId} task={t} now={now} />
          ))}
        </ol>
      )}
    </aside>
  );
}

function TaskItem({ task, now }: { readonly task: Task; readonly now: number }) {
  const name = useWorkspaces((s) => s.entries.find((e) => e.id === task.workspaceId)?.name ?? 'removed workspace');
  const state = taskState(task);
  const label = operationLabel(task.operation);
  const rows = taskRows(task);
  const fin = task.finished;
  const elapsed = elapsedText((task.endedAt ?? now) - task.startedAt);
  return (
    <li className={`task task-${state}`} aria-label={`${label} on ${name}`}>
      <div className="task-head">
        <strong>{label}</strong>
        <span className="muted">{name}</span>
        <span className={`badge badge-${state === 'running' ? 'neutral' : state === 'finished' ? 'ok' : state === 'failed' ? 'danger' : 'muted'}`}>
          {state}
        </span>
        <span className="spacer" />
        <span className="task-elapsed" aria-label={`Elapsed ${elapsed}`}>
          {elapsed}
        </span>
        {state === 'running' ? (
          <button type="button" aria-label={`Cancel ${label} on ${name}`} onClick={() => void cancelOperation(task.workspaceId, task.opId)}>
            Cancel
          </button>
        ) : null}
      </div>
      <p className="task-id muted small">
        id <code title={task.opId}>{task.opId}</code>
      </p>
      {rows.length > 0 ? (
        <VirtualList
          className="task-progress progress-vlist"
          label={`Progress of ${label}`}
          items={rows}
          getKey={(r) => r.target}
          maxRows={VISIBLE_ROWS}
          render={(r) => <ProgressLine row={r} done={state !== 'running'} />}
        />
      ) : null}
      {fin ? (
        <p className="task-summary" role="status">
          {outcomeSummary(fin)}
        </p>
      ) : null}
      {fin && !fin.ok && fin.error ? (
        <div className="task-error">
          {fin.outcomes.length > 0 ? <p>{fin.error.message}</p> : null}
          {fin.error.hint ? <p className="banner-hint">{fin.error.hint}</p> : null}
          <details>
            <summary>Details</summary>
            <dl className="task-details">
              <dt>Code</dt>
              <dd className="mono">{fin.error.code}</dd>
              {fin.error.path ? (
                <>
                  <dt>File</dt>
                  <dd className="mono">{fin.error.path}</dd>
                </>
              ) : null}
              {fin.error.host ? (
                <>
                  <dt>Host</dt>
                  <dd className="mono">{fin.error.host}</dd>
                </>
              ) : null}
              <dt>Operation id</dt>
              <dd className="mono">{fin.opId}</dd>
            </dl>
            <Outcomes outcomes={fin.outcomes} label="Per-target outcomes" />
          </details>
        </div>
      ) : null}
    </li>
  );
}
