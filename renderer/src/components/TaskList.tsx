import { useEffect, useState } from 'react';
import { outcomeSummary } from '../../../preload/desk-model';
import { operationLabel } from '../../../preload/operation-labels';
import { cancelOperation } from '../stores/actions';
import { useNav } from '../stores/nav-store';
import { elapsedText, taskRows, taskState, type Task } from '../stores/tasks';
import { useTasks } from '../stores/tasks-store';
import { useWorkspaces } from '../stores/workspaces-store';

/** The toggle's shortcuts (the App's key handler implements them). */
export const TASKS_SHORTCUTS = 'T Control+Shift+T';

/** Progress rows shown per task; a 10,000-VM start shows the first ones and a count. */
const VISIBLE_ROWS = 40;

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
  const shown = rows.slice(0, VISIBLE_ROWS);
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
      {shown.length > 0 ? (
        <ul className="task-progress" aria-label={`Progress of ${label}`}>
          {shown.map((r) => {
            const who = r.target === '' ? 'Overall' : r.target;
            return (
              <li key={r.target} className={`progress-row level-${r.level}`}>
                <span className="progress-target mono">{who}</span>
                {r.value === null && state === 'running' ? (
                  <progress className="progress" aria-label={`${who} progress`} />
                ) : (
                  <progress
                    className="progress"
                    aria-label={`${who} progress`}
                    max={1}
                    value={r.value === null ? (state === 'running' ? 0 : 1) : Math.max(0, Math.min(1, r.value))}
                  />
                )}
                <span className="progress-message">{r.message}</span>
              </li>
            );
          })}
          {rows.length > shown.length ? <li className="muted">+{rows.length - shown.length} more</li> : null}
        </ul>
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
            {fin.outcomes.length > 0 ? (
              <table className="data-table" aria-label="Per-target outcomes">
                <thead>
                  <tr>
                    <th scope="col">Target</th>
                    <th scope="col">Result</th>
                    <th scope="col">Details</th>
                  </tr>
                </thead>
                <tbody>
                  {fin.outcomes.map((o) => (
                    <tr key={o.target}>
                      <td className="mono">{o.target || 'overall'}</td>
                      <td>{o.result}</td>
                      <td>{o.error ? `${o.error.code}: ${o.error.message}` : (o.message ?? '')}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : null}
          </details>
        </div>
      ) : null}
    </li>
  );
}
