import { useEffect, useState, type DragEvent } from 'react';
import { getApi, type ConnectionStatus } from '../bridge';
import { startImport } from '../stores/actions';
import { useApp } from '../stores/app-store';
import { useErrors } from '../stores/errors-store';
import { startSync } from '../stores/sync';
import { useWorkspaces } from '../stores/workspaces-store';
import { isConnected, useConnection } from '../stores/connection-store';
import { useNav } from '../stores/nav-store';
import { useTasks } from '../stores/tasks-store';
import { AddWorkspace } from './AddWorkspace';
import { ConnectionBanner } from './ConnectionBanner';
import { Dashboard } from './Dashboard';
import { DemoButtons, EmptyState } from './EmptyState';
import { ErrorBanner } from './ErrorBanner';
import { HostKeyDialog } from './HostKeyDialog';
import { ImportPreviewDialog } from './ImportPreviewDialog';
import { SettingsDialog } from './SettingsDialog';
import { TaskList, TASKS_SHORTCUTS } from './TaskList';
import { Toasts } from './Toasts';
import { WorkspaceDetail } from './WorkspaceDetail';
import { WorkspaceList } from './WorkspaceList';

/** Is the key event aimed at a text field (where letters are typing, not shortcuts)? */
function typing(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
}

/**
 * The window's shortcuts, documented on their controls (`aria-keyshortcuts`, titles): F5 / Ctrl+R refresh the view
 * (the dashboard's Refresh all, a cluster's Refresh, a federation's Probe — the first enabled control marked so);
 * T / Ctrl+Shift+T toggle the task list. Disconnected, nothing runs.
 */
function useShortcuts(): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const refresh = e.key === 'F5' || ((e.ctrlKey || e.metaKey) && !e.shiftKey && !e.altKey && e.key.toLowerCase() === 'r');
      if (refresh) {
        e.preventDefault();
        if (!isConnected(useConnection.getState().status) || document.querySelector('[role="dialog"]')) return;
        const target = document.querySelector<HTMLButtonElement>('main [aria-keyshortcuts~="F5"]:not([disabled]):not([aria-disabled="true"])');
        target?.click();
        return;
      }
      const tasks = (e.ctrlKey && e.shiftKey && e.key.toLowerCase() === 't') || (e.key === 't' && !e.ctrlKey && !e.metaKey && !e.altKey && !typing(e.target));
      if (tasks) {
        e.preventDefault();
        useNav.getState().toggleTasks();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}

/**
 * Header, workspace list on the left, the dashboard (home) or the opened workspace on the right, the task list beside
 * it when open. While the host is unreachable every control is disabled (one fieldset) and a banner says why.
 */
export function App() {
  useEffect(() => {
    const ctrl = new AbortController();
    startSync(getApi(), ctrl.signal);
    return () => ctrl.abort();
  }, []);
  useShortcuts();

  const loaded = useWorkspaces((s) => s.loaded);
  const count = useWorkspaces((s) => s.entries.length);
  const selectedId = useWorkspaces((s) => s.selectedId);
  const home = useNav((s) => s.home);
  const goHome = useNav((s) => s.goHome);
  const tasksOpen = useNav((s) => s.tasksOpen);
  const connected = isConnected(useConnection((s) => s.status));
  const [dragging, setDragging] = useState(false);
  const openId = !home && selectedId ? selectedId : null;

  // Dropping a state file anywhere on the window imports it into the opened workspace.
  const onDragOver = (e: DragEvent) => {
    if (!openId || !e.dataTransfer.types.includes('Files')) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
    setDragging(true);
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    const file = e.dataTransfer.files[0];
    if (file && openId) void startImport(openId, file);
  };

  return (
    <div
      className={dragging ? 'app dragging' : 'app'}
      onDragOver={onDragOver}
      onDragLeave={(e) => {
        if (e.currentTarget === e.target) setDragging(false);
      }}
      onDrop={onDrop}
    >
      <ConnectionBanner />
      <fieldset className="app-body" disabled={!connected}>
        <Header />
        <div className={tasksOpen ? 'layout with-tasks' : 'layout'}>
          <aside className="sidebar" aria-label="Workspaces">
            <h2 className="sidebar-title">Workspaces</h2>
            <WorkspaceList />
            <AddWorkspace />
            {count > 0 ? (
              <div className="sidebar-demos">
                <h3 className="sidebar-title">Demos</h3>
                <DemoButtons />
              </div>
            ) : null}
          </aside>
          <main className="content">
            <GlobalBanners />
            {!loaded ? (
              <p className="muted" role="status">
                Loading workspaces…
              </p>
            ) : count === 0 ? (
              <EmptyState />
            ) : openId ? (
              <>
                <nav aria-label="Breadcrumb" className="breadcrumb">
                  <button type="button" className="link-button" onClick={goHome}>
                    ← Dashboard
                  </button>
                </nav>
                <WorkspaceDetail key={openId} workspaceId={openId} />
              </>
            ) : (
              <Dashboard />
            )}
          </main>
          {tasksOpen ? <TaskList /> : null}
        </div>
      </fieldset>
      <Toasts />
      {dragging ? (
        <div className="drop-overlay" aria-hidden="true">
          Drop a .cdstate or .json file to import it into this workspace
        </div>
      ) : null}
      <HostKeyDialog />
      <ImportPreviewDialog />
    </div>
  );
}

function Header() {
  const [settingsOpen, setSettingsOpen] = useState(false);
  const info = useApp((s) => s.info);
  const connection = useApp((s) => s.connection);
  const home = useNav((s) => s.home);
  const goHome = useNav((s) => s.goHome);
  const tasksOpen = useNav((s) => s.tasksOpen);
  const toggleTasks = useNav((s) => s.toggleTasks);
  const running = useTasks((s) => s.tasks.filter((t) => !t.finished).length);
  return (
    <header className="header">
      <h1 className="app-name">Clusterdesk</h1>
      {info ? (
        <span className="muted small">
          v{info.version} · {info.host === 'serve' ? 'headless host' : 'desktop'}
        </span>
      ) : null}
      <nav aria-label="Main" className="main-nav">
        <button type="button" aria-current={home ? 'page' : undefined} onClick={goHome}>
          Dashboard
        </button>
        <button
          type="button"
          aria-expanded={tasksOpen}
          aria-controls="task-list"
          aria-keyshortcuts={TASKS_SHORTCUTS}
          title="Show or hide the task list (T or Ctrl+Shift+T)"
          onClick={() => toggleTasks()}
        >
          Tasks{running > 0 ? ` (${running} running)` : ''}
        </button>
      </nav>
      <span className="spacer" />
      <button type="button" onClick={() => setSettingsOpen(true)}>
        Settings
      </button>
      {settingsOpen ? <SettingsDialog onClose={() => setSettingsOpen(false)} /> : null}
      <span role="status" className={`connection connection-${connection}`}>
        {CONNECTION_LABELS[connection]}
      </span>
    </header>
  );
}

const CONNECTION_LABELS: Readonly<Record<ConnectionStatus, string>> = {
  open: 'Connected',
  connecting: 'Connecting…',
  reconnecting: 'Reconnecting…',
  'host-gone': 'Host gone — reconnecting…',
  'token-rejected': 'Token rejected — open the new URL',
  closed: 'Disconnected',
};

/** Banners that belong to no workspace (adding, demos, listing). */
function GlobalBanners() {
  const banners = useErrors((s) => s.banners);
  const dismiss = useErrors((s) => s.dismiss);
  const global = banners.filter((b) => b.workspaceId === null);
  if (global.length === 0) return null;
  return (
    <div className="banners">
      {global.map((b) => (
        <ErrorBanner key={b.id} title={b.title} error={b.error} onDismiss={() => dismiss(b.id)} />
      ))}
    </div>
  );
}
