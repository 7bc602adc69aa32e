import { useState } from 'react';
import type { MachineLog, MachineProbe, MachineView, WorkspaceEntry, WorkspaceSnapshot } from '../../../preload/contract';
import { formatTimestamp } from '../lib/format';
import { actionsFor, reasonOf } from '../lib/workspace-actions';
import { query, runOperation } from '../stores/actions';
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
  const [probes, setProbes] = useState<Readonly<Record<string, MachineProbe>>>({});
  const [logs, setLogs] = useState<Readonly<Record<string, MachineLog>> | null>(null);
  const [logMachine, setLogMachine] = useState<string | null>(null);

  const probe = async () => {
    const r = await runOperation('federation:probe', { workspaceId: ws });
    if (r.ok) setProbes(Object.fromEntries(r.value.map((p) => [p.machine, p])));
  };
  const loadLogs = async (machine: string) => {
    setLogMachine(machine);
    const r = await query('Could not read the logs', 'federation:logs', { workspaceId: ws, lines: 200 });
    if (r) setLogs(Object.fromEntries(r.map((l) => [l.machine, l])));
  };

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
          onClick={() => void runOperation('federation:clean', { workspaceId: ws, ...(cleanNeedsForce ? { force: true } : {}) })}
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
      <pre role="log" aria-label={`Log of ${machine}`} className="log" tabIndex={0}>
        {log ? (log.lines.length ? log.lines.join('\n') : '(empty)') : 'Loading…'}
      </pre>
    </section>
  );
}
