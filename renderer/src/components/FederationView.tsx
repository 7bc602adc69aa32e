import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import type { MachineLog, MachineProbe, MachineView, WorkspaceEntry, WorkspaceSnapshot } from '../../../preload/contract';
import { formatTimestamp } from '../lib/format';
import { actionsFor, reasonOf } from '../lib/workspace-actions';
import { query, runOperation } from '../stores/actions';
import { ConfirmDialog } from './Dialog';
import { NameList } from './NameList';
import { OperationPanel } from './OperationPanel';
import { OverviewPanel } from './OverviewPanel';
import { StatePanel } from './StatePanel';
import { Tabs } from './Tabs';

interface Props {
  readonly snapshot: WorkspaceSnapshot;
  readonly entry: WorkspaceEntry;
  readonly busy: boolean;
}

/** A federated-learning deployment: lifecycle buttons, machines with probe results, per-machine logs. */
export function FederationView({ snapshot, entry, busy }: Props) {
  const [force, setForce] = useState(false);
  const can = actionsFor(snapshot, busy, { force }).federation;
  const cleanNeedsForce = snapshot.status === 'running' && !snapshot.error;
  const ws = snapshot.id;
  const machines = snapshot.federation?.machines ?? [];
  const [tab, setTab] = useState('machines');
  const [probed, setProbed] = useState<ProbeSet | null>(null);
  const [logs, setLogs] = useState<Readonly<Record<string, MachineLog>> | null>(null);
  const [logMachine, setLogMachine] = useState<string | null>(null);
  const [cleaning, setCleaning] = useState(false);
  // A probe describes the state it was taken against: once the state is written again (a stop, a clean), it is stale.
  const probeStale = probed !== null && probed.serial !== snapshot.serial;
  const probes = probed && snapshot.status !== 'clean' ? probed.byMachine : {};

  const probe = async () => {
    const serial = snapshot.serial;
    const r = await runOperation('federation:probe', { workspaceId: ws });
    if (r.ok) setProbed({ at: new Date().toISOString(), serial, byMachine: Object.fromEntries(r.value.map((p) => [p.machine, p])) });
  };
  const loadLogs = async (machine: string) => {
    setLogMachine(machine);
    const r = await query('Could not read the logs', 'federation:logs', { workspaceId: ws, lines: 200 });
    if (r) setLogs(Object.fromEntries(r.map((l) => [l.machine, l])));
  };
  // While the log panel is open on a running federation, it follows new output (re-read every few seconds).
  const following = logMachine !== null && snapshot.status === 'running';
  useEffect(() => {
    if (!following || !logMachine) return;
    const timer = setInterval(() => void loadLogs(logMachine), LOG_FOLLOW_MS);
    return () => clearInterval(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- loadLogs is recreated each render; the machine and the state decide
  }, [following, logMachine, ws]);

  return (
    <>
      <div role="toolbar" aria-label="Federation actions" className="toolbar">
        <button
          type="button"
          className="primary"
          disabled={!can.start.allowed}
          title={reasonOf(can.start)}
          onClick={() => void runOperation('federation:start', { workspaceId: ws })}
        >
          Start
        </button>
        <button type="button" aria-keyshortcuts="F5 Control+R" disabled={!can.probe.allowed} title={reasonOf(can.probe)} onClick={() => void probe()}>
          Probe
        </button>
        <button type="button" disabled={!can.stop.allowed} title={reasonOf(can.stop)} onClick={() => void runOperation('federation:stop', { workspaceId: ws })}>
          Stop
        </button>
        <span className="toolbar-sep" aria-hidden="true" />
        <button
          type="button"
          className={cleanNeedsForce ? 'danger' : undefined}
          disabled={!can.clean.allowed}
          title={reasonOf(can.clean)}
          onClick={() => setCleaning(true)}
        >
          Clean
        </button>
        {cleanNeedsForce ? (
          <label className="check inline">
            <input type="checkbox" checked={force} disabled={busy} onChange={(e) => setForce(e.target.checked)} />
            Force (clean while running)
          </label>
        ) : null}
      </div>

      <OperationPanel snapshot={snapshot} />
      {probed ? (
        <p className={probeStale ? 'muted small probe-time stale' : 'muted small probe-time'} role="status">
          {snapshot.status === 'clean'
            ? `Probe results from ${formatTimestamp(probed.at)} were cleared: the federation is clean.`
            : probeStale
              ? `Probe results from ${formatTimestamp(probed.at)} are stale: the state changed since. Probe again.`
              : `Probed at ${formatTimestamp(probed.at)}.`}
        </p>
      ) : null}

      {cleaning ? (
        <ConfirmDialog
          title={`Clean federation ${snapshot.name}?`}
          confirmLabel={cleanNeedsForce ? 'Stop and clean' : 'Clean'}
          danger
          wide
          {...(cleanNeedsForce ? { typed: snapshot.name } : {})}
          onCancel={() => setCleaning(false)}
          onConfirm={() => {
            setCleaning(false);
            void runOperation('federation:clean', { workspaceId: ws, ...(cleanNeedsForce ? { force: true } : {}) });
          }}
        >
          <p>
            {cleanNeedsForce ? 'The federation is running: every participant is stopped first. Then ' : ''}
            Clean deletes every machine’s temp folder (kits, logs, results) and this workspace’s state folder with its whole history of backups. It cannot be
            undone.
          </p>
          <div className="destroy-list">
            <NameList
              title="Machine folders"
              label="Machine folders to delete"
              items={machines.map((m) => `${m.kind === 'local' ? 'localhost' : m.host}:${m.tmpDir}`)}
              whenEmpty="none"
            />
            <NameList title="State folder" label="State folder to delete" items={[stateFolderOf(snapshot.statePath)]} whenEmpty="none" />
          </div>
        </ConfirmDialog>
      ) : null}

      <Tabs
        label="Workspace sections"
        active={tab}
        onChange={setTab}
        tabs={[
          {
            id: 'machines',
            label: 'Machines',
            content: (
              <>
                <MachinesTable
                  machines={machines}
                  status={snapshot.status}
                  probes={probes}
                  logs={logs}
                  deployedFilesPath={snapshot.federation?.deployedFilesPath ?? null}
                  onLogs={(m) => void loadLogs(m)}
                />
                {logMachine ? (
                  <LogPanel machine={logMachine} log={logs?.[logMachine]} onReload={() => void loadLogs(logMachine)} onClose={() => setLogMachine(null)} />
                ) : null}
              </>
            ),
          },
          { id: 'overview', label: 'Overview', content: <OverviewPanel snapshot={snapshot} entry={entry} busy={busy} /> },
          { id: 'state', label: 'State', content: <StatePanel snapshot={snapshot} busy={busy} /> },
        ]}
      />
    </>
  );
}

const LOG_FOLLOW_MS = 3000;

interface ProbeSet {
  /** When the probe answered (ISO). */
  readonly at: string;
  /** The state serial it was taken against. */
  readonly serial: number | null;
  readonly byMachine: Readonly<Record<string, MachineProbe>>;
}

/** The folder holding the state file and its history (`…/.refedez/state.json` → `…/.refedez`). */
function stateFolderOf(statePath: string): string {
  const cut = Math.max(statePath.lastIndexOf('/'), statePath.lastIndexOf('\\'));
  return cut > 0 ? statePath.slice(0, cut) : statePath;
}

function recordedState(m: MachineView, status: WorkspaceSnapshot['status']): string {
  const parts = [status ?? 'unknown'];
  if (m.pid !== null) parts.push(`pid ${m.pid}`);
  return parts.join(' · ');
}

function probeText(p: MachineProbe | undefined): string {
  if (!p) return '—';
  if (p.error) return `${p.error.code}: ${p.error.message}`;
  if (!p.reachable) return 'unreachable';
  const bits = ['reachable'];
  if (p.processAlive !== null) bits.push(p.processAlive ? 'process alive' : 'process gone');
  if (p.shutdownRequested) bits.push('shutdown requested');
  return bits.join(', ');
}

interface TableProps {
  readonly machines: readonly MachineView[];
  readonly status: WorkspaceSnapshot['status'];
  readonly probes: Readonly<Record<string, MachineProbe>>;
  readonly logs: Readonly<Record<string, MachineLog>> | null;
  readonly deployedFilesPath: string | null;
  readonly onLogs: (machine: string) => void;
}

function MachinesTable({ machines, status, probes, logs, deployedFilesPath, onLogs }: TableProps) {
  return (
    <section className="panel-section" aria-labelledby="machines-title">
      <div className="section-head">
        <h3 id="machines-title">Machines ({machines.length})</h3>
        {deployedFilesPath ? <span className="muted small mono">kits: {deployedFilesPath}</span> : null}
      </div>
      {machines.length === 0 ? (
        <p className="muted">No machines recorded{status === 'clean' ? ': the federation is clean. Start it to deploy the kits.' : '.'}</p>
      ) : (
        <div className="table-wrap">
          <table className="data-table" aria-label="Machines">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Kind</th>
                <th scope="col">Host</th>
                <th scope="col">User</th>
                <th scope="col">Temp dir</th>
                <th scope="col">Recorded state</th>
                <th scope="col">Probe</th>
                <th scope="col">Last log line</th>
                <th scope="col">
                  <span className="visually-hidden">Logs</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {machines.map((m) => {
                const p = probes[m.name];
                const lastLine = p?.lastLogLine ?? logs?.[m.name]?.lines.at(-1) ?? null;
                const probeBad = p && (p.error || !p.reachable || p.processAlive === false);
                return (
                  <tr key={m.name}>
                    <td className="mono">{m.name}</td>
                    <td>{m.kind}</td>
                    <td className="mono">{m.kind === 'local' ? 'localhost' : m.port === 22 ? m.host : `${m.host}:${m.port}`}</td>
                    <td>{m.user}</td>
                    <td className="mono small">{m.tmpDir}</td>
                    <td className="nowrap" title={m.startedAt ? `started ${formatTimestamp(m.startedAt)}` : undefined}>
                      {recordedState(m, status)}
                    </td>
                    <td className={probeBad ? 'probe-bad' : p ? 'probe-ok' : undefined}>{probeText(p)}</td>
                    <td className="mono small last-line" title={lastLine ?? undefined}>
                      {lastLine ?? '—'}
                    </td>
                    <td>
                      <button type="button" aria-label={`Logs for ${m.name}`} onClick={() => onLogs(m.name)}>
                        Logs
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function LogPanel({
  machine,
  log,
  onReload,
  onClose,
}: {
  readonly machine: string;
  readonly log: MachineLog | undefined;
  readonly onReload: () => void;
  readonly onClose: () => void;
}) {
  const ref = useRef<HTMLPreElement>(null);
  // Follows new output while the reader is at the bottom; scrolling up to read stops following until back down.
  const atBottom = useRef(true);
  const text = log ? (log.lines.length ? log.lines.join('\n') : '(empty)') : 'Loading…';
  useLayoutEffect(() => {
    const el = ref.current;
    if (el && atBottom.current) el.scrollTop = el.scrollHeight;
  }, [text]);
  return (
    <section className="panel-section log-panel" aria-labelledby="log-title">
      <div className="section-head">
        <h3 id="log-title">Log: {machine}</h3>
        <span className="spacer" />
        <button type="button" onClick={onReload}>
          Reload log
        </button>
        <button type="button" className="icon-button" aria-label="Close log" onClick={onClose}>
          <span aria-hidden="true">×</span>
        </button>
      </div>
      {log?.error ? <p className="error-text">{`${log.error.code}: ${log.error.message}`}</p> : null}
      <pre
        ref={ref}
        role="log"
        aria-label={`Log of ${machine}`}
        className="log"
        tabIndex={0}
        onScroll={(e) => {
          const el = e.currentTarget;
          atBottom.current = el.scrollTop + el.clientHeight >= el.scrollHeight - 8;
        }}
      >
        {text}
      </pre>
    </section>
  );
}
