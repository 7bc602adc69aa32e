import { useEffect, useState, type DragEvent } from 'react';
import { getApi } from '../bridge';
import { startImport } from '../stores/actions';
import { useApp } from '../stores/app-store';
import { useErrors } from '../stores/errors-store';
import { startSync } from '../stores/sync';
import { useWorkspaces } from '../stores/workspaces-store';
import { AddWorkspace } from './AddWorkspace';
import { DemoButtons, EmptyState } from './EmptyState';
import { ErrorBanner } from './ErrorBanner';
import { HostKeyDialog } from './HostKeyDialog';
import { ImportPreviewDialog } from './ImportPreviewDialog';
import { SettingsDialog } from './SettingsDialog';
import { WorkspaceDetail } from './WorkspaceDetail';
import { WorkspaceList } from './WorkspaceList';

/** Header, workspace list on the left, the selected workspace (or the empty state) on the right. */
export function App() {
  useEffect(() => {
    const ctrl = new AbortController();
    startSync(getApi(), ctrl.signal);
    return () => ctrl.abort();
  }, []);

  const loaded = useWorkspaces((s) => s.loaded);
  const count = useWorkspaces((s) => s.entries.length);
  const selectedId = useWorkspaces((s) => s.selectedId);
  const [dragging, setDragging] = useState(false);

  // Dropping a state file anywhere on the window imports it into the selected workspace.
  const onDragOver = (e: DragEvent) => {
    if (!selectedId || !e.dataTransfer.types.includes('Files')) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
    setDragging(true);
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    const file = e.dataTransfer.files[0];
    if (file && selectedId) void startImport(selectedId, file);
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
      <Header />
      <div className="layout">
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
          ) : selectedId ? (
            <WorkspaceDetail key={selectedId} workspaceId={selectedId} />
          ) : null}
        </main>
      </div>
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
  return (
    <header className="header">
      <h1 className="app-name">Clusterdesk</h1>
      {info ? (
        <span className="muted small">
          v{info.version} · {info.host === 'serve' ? 'headless host' : 'desktop'}
        </span>
      ) : null}
      <span className="spacer" />
      <button type="button" onClick={() => setSettingsOpen(true)}>
        Settings
      </button>
      {settingsOpen ? <SettingsDialog onClose={() => setSettingsOpen(false)} /> : null}
      <span role="status" className={`connection connection-${connection}`}>
        {connection === 'open' ? 'Connected' : connection === 'closed' ? 'Disconnected' : connection === 'reconnecting' ? 'Reconnecting…' : 'Connecting…'}
      </span>
    </header>
  );
}

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
