import { useLayoutEffect, useState } from 'react';
import type { ClusterDetail, RefreshReport, ValidationReport, VmView, WorkspaceEntry, WorkspaceSnapshot } from '../../../preload/contract';
import { vmFoundDown } from '../../../preload/workspace-actions';
import { describeDrift, errorLocation } from '../lib/format';
import { markCommitted } from '../lib/perf';
import { actionsFor, reasonOf } from '../lib/workspace-actions';
import { query, runOperation } from '../stores/actions';
import { DestroyDialog } from './DestroyDialog';
import { OperationPanel } from './OperationPanel';
import { OverviewPanel } from './OverviewPanel';
import { StatePanel } from './StatePanel';
import { Tabs } from './Tabs';
import { VirtualList } from './VirtualList';
import { VmTable } from './VmTable';

interface Props {
  readonly snapshot: WorkspaceSnapshot;
  readonly entry: WorkspaceEntry;
  readonly busy: boolean;
}

const EMPTY_CLUSTER: ClusterDetail = { clusterName: '', vms: [], networks: [], volumes: [], pools: [] };

/** A libvirt cluster: lifecycle buttons, drift and validation reports, VMs, networks and volumes. */
export function ClusterView({ snapshot, entry, busy }: Props) {
  const can = actionsFor(snapshot, busy).cluster;
  const cluster = snapshot.cluster ?? EMPTY_CLUSTER;
  const ws = snapshot.id;
  const [tab, setTab] = useState('vms');
  const [destroying, setDestroying] = useState(false);
  const [refresh, setRefresh] = useState<RefreshReport | null>(null);
  const [validation, setValidation] = useState<ValidationReport | null>(null);
  // Bench-only (a no-op unless `npm run bench -- ui` listens): this snapshot's render has committed.
  useLayoutEffect(() => markCommitted(snapshot.id, snapshot.seq), [snapshot]);

  const doRefresh = async (apply: boolean) => {
    const r = await runOperation('cluster:refresh', { workspaceId: ws, ...(apply ? { apply: true } : {}) });
    if (r.ok) setRefresh(r.value);
  };

  return (
    <>
      <div role="toolbar" aria-label="Cluster actions" className="toolbar">
        <button
          type="button"
          className="primary"
          disabled={!can.start.allowed}
          title={reasonOf(can.start)}
          onClick={() => void runOperation('cluster:start', { workspaceId: ws })}
        >
          Start
        </button>
        <button type="button" disabled={!can.stop.allowed} title={reasonOf(can.stop)} onClick={() => void runOperation('cluster:stop', { workspaceId: ws })}>
          Stop
        </button>
        <button type="button" className="danger" disabled={!can.destroy.allowed} title={reasonOf(can.destroy)} onClick={() => setDestroying(true)}>
          Destroy
        </button>
        <span className="toolbar-sep" aria-hidden="true" />
        <button
          type="button"
          aria-keyshortcuts="F5 Control+R"
          disabled={!can.refresh.allowed}
          title={reasonOf(can.refresh)}
          onClick={() => void doRefresh(false)}
        >
          Refresh
        </button>
        <button
          type="button"
          disabled={!can.validate.allowed}
          title={reasonOf(can.validate)}
          onClick={async () => {
            const v = await query('Could not validate the configuration', 'cluster:validate', { workspaceId: ws });
            if (v) setValidation(v);
          }}
        >
          Validate
        </button>
      </div>

      <OperationPanel snapshot={snapshot} />
      {!refresh ? <DriftNotice vms={cluster.vms} /> : null}
      {refresh ? <DriftReport report={refresh} busy={busy} onApply={() => void doRefresh(true)} onClose={() => setRefresh(null)} /> : null}
      {validation ? <ValidationPanel report={validation} onClose={() => setValidation(null)} /> : null}

      <Tabs
        label="Workspace sections"
        active={tab}
        onChange={setTab}
        tabs={[
          {
            id: 'vms',
            label: 'Virtual machines',
            content: (
              <>
                <VmTable
                  vms={cluster.vms}
                  busy={busy || Boolean(snapshot.error)}
                  onAction={(vm, action) => void runOperation('cluster:vm-action', { workspaceId: ws, vm, action })}
                />
                <Resources cluster={cluster} />
              </>
            ),
          },
          { id: 'overview', label: 'Overview', content: <OverviewPanel snapshot={snapshot} entry={entry} busy={busy} /> },
          { id: 'state', label: 'State', content: <StatePanel snapshot={snapshot} busy={busy} /> },
        ]}
      />

      {destroying ? (
        <DestroyDialog
          cluster={cluster}
          fallbackName={snapshot.name}
          onCancel={() => setDestroying(false)}
          onConfirm={(confirm) => {
            setDestroying(false);
            void runOperation('cluster:destroy', { workspaceId: ws, confirm });
          }}
        />
      ) : null}
    </>
  );
}

/** Drift kept from the last check (a Refresh, or the one that follows every restore/import), while no report is open. */
function DriftNotice({ vms }: { readonly vms: readonly VmView[] }) {
  const drifted = vms.filter((v) => v.drift);
  if (drifted.length === 0) return null;
  const down = drifted.filter((v) => vmFoundDown(v.drift)).length;
  return (
    <p role="status" className="drift-notice">
      <strong>Drift:</strong> {drifted.length} of {vms.length} VMs differ from the recorded state
      {down > 0 ? ` (${down} not running in libvirt: Start brings them up)` : ''}. Refresh, then Apply, records what libvirt says.
    </p>
  );
}

function DriftReport({
  report,
  busy,
  onApply,
  onClose,
}: {
  readonly report: RefreshReport;
  readonly busy: boolean;
  readonly onApply: () => void;
  readonly onClose: () => void;
}) {
  return (
    <section className="report" aria-labelledby="drift-title">
      <div className="section-head">
        <h3 id="drift-title">Drift report</h3>
        <span className="spacer" />
        {report.drift.length > 0 && !report.applied ? (
          <button type="button" className="primary" disabled={busy} onClick={onApply}>
            Apply
          </button>
        ) : null}
        <button type="button" className="icon-button" aria-label="Close drift report" onClick={onClose}>
          <span aria-hidden="true">×</span>
        </button>
      </div>
      {report.drift.length === 0 ? (
        <p role="status">No drift: libvirt matches the recorded state.</p>
      ) : (
        <>
          <p role="status">
            {report.drift.length} difference{report.drift.length === 1 ? '' : 's'} between the recorded state and libvirt
            {report.applied ? ' — recorded state updated.' : '. Apply records what libvirt reports.'}
          </p>
          <VirtualList
            className="drift-list"
            label="Differences"
            items={report.drift}
            getKey={(d) => `${d.resource}:${d.name}:${d.kind}`}
            render={(d) => <span className={`drift-${d.kind}`}>{describeDrift(d)}</span>}
          />
        </>
      )}
    </section>
  );
}

function ValidationPanel({ report, onClose }: { readonly report: ValidationReport; readonly onClose: () => void }) {
  return (
    <section className="report" aria-labelledby="validation-title">
      <div className="section-head">
        <h3 id="validation-title">Validation</h3>
        <span className="spacer" />
        <button type="button" className="icon-button" aria-label="Close validation" onClick={onClose}>
          <span aria-hidden="true">×</span>
        </button>
      </div>
      {report.valid ? (
        <>
          <p role="status">The configuration is valid. Start would create:</p>
          <ul className="plan-list">
            {report.plan.map((p) => (
              <li key={`${p.resource}:${p.name}`}>
                <span className="muted">{p.resource}</span> <span className="mono">{p.name}</span>
              </li>
            ))}
          </ul>
        </>
      ) : (
        <div role="alert">
          <p>
            The configuration has {report.errors.length} error{report.errors.length === 1 ? '' : 's'}:
          </p>
          <ul className="error-list">
            {report.errors.map((e, i) => {
              const where = errorLocation(e);
              return (
                <li key={i}>
                  {where ? <span className="mono">{where}: </span> : null}
                  {e.message}
                  {e.hint ? <span className="muted"> — {e.hint}</span> : null}
                </li>
              );
            })}
          </ul>
        </div>
      )}
    </section>
  );
}

function Resources({ cluster }: { readonly cluster: ClusterDetail }) {
  return (
    <div className="resources">
      <section className="panel-section" aria-labelledby="networks-title">
        <h3 id="networks-title">Networks ({cluster.networks.length})</h3>
        {cluster.networks.length === 0 ? (
          <p className="muted">None recorded.</p>
        ) : (
          <ul className="resource-list" aria-label="Networks">
            {cluster.networks.map((n) => (
              <li key={n.name}>
                <span className="mono">{n.name}</span> <span className="muted">{n.subnet}</span> <span className="muted">bridge {n.bridge}</span>{' '}
                <span className="muted">{n.activeIps.length} active IPs</span>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section className="panel-section" aria-labelledby="volumes-title">
        <h3 id="volumes-title">Volumes ({cluster.volumes.length})</h3>
        {cluster.volumes.length === 0 ? (
          <p className="muted">None recorded.</p>
        ) : (
          <VirtualList
            className="resource-list"
            label="Volumes"
            items={cluster.volumes}
            getKey={(v) => v.name}
            render={(v) => (
              <>
                <span className="mono">{v.name}</span>{' '}
                <span className="muted">
                  {v.sizeGb} GB {v.format}
                </span>{' '}
                <span className="muted mono">{v.path}</span>
              </>
            )}
          />
        )}
      </section>
    </div>
  );
}
