import { z } from 'zod';
import type { DriftItem, MachineProbe, OperationReport, TargetOutcome, WorkspaceEntry } from '../../preload/contract';
import { destroyCluster, requireConfirmation } from '../clusters/destroy';
import { createDemoCluster } from '../clusters/demo';
import { refreshCluster } from '../clusters/refresh';
import { startCluster, type ClusterOpResult } from '../clusters/start';
import { stopCluster } from '../clusters/stop';
import { vmAction } from '../clusters/vm-action';
import { validateCluster, type ClusterWorkspace } from '../clusters/workspace';
import { createDemoFederation } from '../federations/demo';
import type { FederationResult, FederationWorkspace } from '../federations/env';
import { federationLogs, probeFederation, trustHostKey } from '../federations/inspect';
import { cleanFederation, startFederation, stopFederation } from '../federations/service';
import { simpleContext, type OpContext } from '../operations/types';
import { adoptState, previewAdoption, type AdoptTarget } from '../sharing/adopt';
import { exportState, importState, previewStateImport } from '../sharing/service';
import { clusterWorkspaceOf, federationWorkspaceOf, shareTargetOf } from '../workspaces/domain-workspaces';
import { runTrayItem, type TrayUi } from '../workspaces/desk-feed';
import { targetOf, vmDriftNotes } from '../workspaces/snapshot';
import { SETTINGS_LIMITS } from '../../preload/settings-limits';
import { AppError, toErrorData } from '../errors';
import { browseRoot, listFolders } from '../files/list-dirs';
import type { AppServices } from '../services';
import { exactSchemas, type HandlerTable } from './dispatch';
import { absOrRelPath, bundleText, empty, workspaceRef } from './schemas';

/**
 * A handler whose argument type is what its schema parses, and nothing else: the table's `HandlerTable` type then
 * checks that type against the contract in both directions (see `Handler`). No cast anywhere.
 */
export function h<S extends z.ZodType, R>(
  schema: S,
  handle: (arg: z.output<S>) => Promise<R>,
): { readonly schema: S; readonly handle: (arg: z.output<S>) => Promise<R> } {
  return { schema, handle };
}

/** The `settings:set` schema, built from the one table of limits the Settings dialog also shows. */
function settingsSchema() {
  const n = (k: keyof typeof SETTINGS_LIMITS) => z.number().int().min(SETTINGS_LIMITS[k].min).max(SETTINGS_LIMITS[k].max).optional();
  return z
    .object({
      historyLimit: n('historyLimit'),
      stopTimeoutSec: n('stopTimeoutSec'),
      lockTimeoutMs: n('lockTimeoutMs'),
      parallelism: n('parallelism'),
      sshConnectTimeoutMs: n('sshConnectTimeoutMs'),
      autoRefreshLocalMin: n('autoRefreshLocalMin'),
      autoRefreshRemoteMin: n('autoRefreshRemoteMin'),
    })
    .strict();
}

/** `state:push` / `state:pull`: a backend URL (checked by the backend: no password), an optional key, adoption. */
const moveSchema = workspaceRef.extend({ url: z.string().min(1).max(2000), key: z.string().min(1).max(200).optional(), adopt: z.boolean().optional() });
const moveOf = (a: z.output<typeof moveSchema>) => ({ url: a.url, ...(a.key ? { key: a.key } : {}), ...(a.adopt ? { adopt: true } : {}) });

const vmActionSchema = z.enum(['start', 'shutdown', 'force-off', 'pause', 'resume', 'reboot']);

/**
 * The one table of IPC handlers. Every transport (Electron IPC, WebSocket) and the tray bind exactly this; each
 * handler validates its argument and calls a plain domain function — the same ones the CLI calls — every mutation
 * through `s.operate`, which publishes the workspace's one snapshot when it ends. Answers carry ids and outcomes,
 * never the state.
 */
export function createHandlerTable(s: AppServices, ui: TrayUi | null = null): HandlerTable {
  const entry = (id: string) => s.registry.get(id);
  // Adoption reads the file as it is: the workspace's remembered lineage (if any) does not apply to a foreign file.
  const adoptTarget = (e: WorkspaceEntry): AdoptTarget => {
    if (e.kind === 'federation') {
      const { lineage: _l, ...ws } = federationWorkspaceOf(e);
      void _l;
      return { kind: 'federation', env: s.federationEnv(), ws };
    }
    const { lineage: _l, ...ws } = clusterWorkspaceOf(e);
    void _l;
    return { kind: 'cluster', env: s.clusterEnv(), ws };
  };
  /** A cluster operation: any of them but an unapplied refresh makes the last refresh's drift notes obsolete. */
  const clusterOp = (id: string, name: string, fn: (ws: ClusterWorkspace, ctx: OpContext) => Promise<ClusterOpResult>) =>
    s.operate(id, name, async (ctx, e) => {
      try {
        return await fn(clusterWorkspaceOf(e), ctx);
      } finally {
        s.vmDrift.delete(id);
      }
    });
  const fedOp = (id: string, name: string, fn: (ws: FederationWorkspace, ctx: OpContext) => Promise<FederationResult>) =>
    s.operate(id, name, (ctx, e) => fn(federationWorkspaceOf(e), ctx));
  /**
   * After a restore or an import the recorded state may say nothing true about libvirt (a `running` generation
   * restored while the VMs are off): read libvirt at once and keep the drift, so the view shows it and the action
   * rule can allow Start without a manual Refresh. A federation's machines are probed instead; the per-machine
   * results are the operation's outcomes (and its drift mark, preload/desk-model.ts). A libvirt that cannot be read leaves the restore done, with an
   * outcome that says the check did not happen.
   */
  const checkAfterWrite = async (ctx: OpContext, id: string): Promise<readonly TargetOutcome[]> => {
    s.vmDrift.delete(id);
    const e = entry(id);
    if (e.kind !== 'cluster') {
      // A federation: probe every recorded machine, so the outcomes say what really runs (the drift mark follows them).
      try {
        return probeOutcomes(await probeFederation(s.federationEnv(), federationWorkspaceOf(e), ctx));
      } catch (err) {
        const error = toErrorData(err);
        if (error.code === 'cancelled') throw err;
        return [{ target: '', result: 'unchecked', message: `written, but the machines could not be probed: ${error.message}`, error }];
      }
    }
    try {
      const r = await refreshCluster(s.clusterEnv(), clusterWorkspaceOf(e), ctx, { apply: false });
      if (r.drift.length > 0) s.vmDrift.set(id, vmDriftNotes(r.drift));
      return [];
    } catch (err) {
      const error = toErrorData(err);
      return [{ target: '', result: 'unchecked', message: `written, but libvirt could not be read to compare: ${error.message}`, error }];
    }
  };
  const report = async (run: Promise<{ opId: string; value: { readonly outcomes?: readonly TargetOutcome[] } | void }>): Promise<OperationReport> => {
    const { opId, value } = await run;
    return { opId, outcomes: value?.outcomes ?? [] };
  };

  const table: HandlerTable = exactSchemas({
    'app:info': h(empty, async () => s.info()),
    'app:tray-template': h(empty, () => s.desk.template()),
    'app:tray-click': h(z.object({ itemId: z.string().min(1).max(500) }).strict(), (a) => runTrayItem(table, s.desk, a.itemId, ui)),
    'settings:get': h(empty, async () => s.getSettings()),
    'settings:set': h(settingsSchema(), async (a) => s.setSettings(a)),
    'workspaces:list': h(empty, async () => s.registry.list()),
    'workspaces:add': h(z.object({ path: absOrRelPath, statePath: absOrRelPath.optional() }).strict(), (a) => s.addWorkspace(a.path, a.statePath)),
    'workspaces:remove': h(workspaceRef, async (a) => s.removeWorkspace(a.workspaceId)),
    'state:push': h(moveSchema, (a) =>
      report(
        s.operate(a.workspaceId, 'state:push', async (ctx, e) =>
          (await import('../state/backends/app-moves')).pushWorkspace(s.store, targetOf(e), e.name, { ...moveOf(a), signal: ctx.signal }),
        ),
      ),
    ),
    'state:pull': h(moveSchema, (a) =>
      report(
        s.operate(a.workspaceId, 'state:pull', async (ctx, e) =>
          (await import('../state/backends/app-moves')).pullWorkspace(s.store, targetOf(e), e.name, { ...moveOf(a), signal: ctx.signal }),
        ),
      ),
    ),
    'workspaces:set-backend': h(workspaceRef.extend({ backend: z.string().min(1).max(2000).nullable() }), (a) => s.setBackend(a.workspaceId, a.backend)),
    // The host's folder picker (the browser cannot see the host's disk): a read-only, bounded listing under one root.
    'fs:list-dirs': h(z.object({ path: absOrRelPath.optional() }).strict(), (a) => listFolders(a.path, browseRoot(process.env))),
    // A state that cannot be read answers its error (state-corrupt, -mismatch, -foreign …); events still carry the
    // snapshot with its `error` field so the list and the tray can show it.
    'workspace:snapshot': h(workspaceRef, async (a) => {
      const snap = await s.current(a.workspaceId);
      if (snap.error) throw AppError.fromData(snap.error);
      return snap;
    }),
    'state:backups': h(workspaceRef, (a) => s.backups(a.workspaceId)),
    'state:restore': h(workspaceRef.extend({ backupId: z.string().min(1).max(500), adopt: z.boolean().optional() }), (a) =>
      report(
        s.operate(a.workspaceId, 'state:restore', async (ctx, e) => {
          const restored = await s.store.restore(targetOf(e), a.backupId, { adopt: a.adopt ?? false });
          if (a.adopt && restored.lineage) s.registry.patch(e.id, { lineage: restored.lineage });
          return { outcomes: await checkAfterWrite(ctx, e.id) };
        }),
      ),
    ),
    'state:unlock': h(workspaceRef.extend({ lockId: z.string().min(1).max(200) }), (a) =>
      report(s.operate(a.workspaceId, 'state:unlock', (_ctx, e) => s.store.forceUnlock(targetOf(e), a.lockId))),
    ),
    /** After `state-foreign`: the user confirms the state file now in place belongs to this workspace. */
    'workspace:adopt-lineage': h(workspaceRef, (a) =>
      report(
        s.operate(a.workspaceId, 'workspace:adopt-lineage', async (_ctx, e) => {
          const current = await s.store.load({ ...targetOf(e), lineage: undefined });
          s.registry.patch(e.id, { lineage: current?.lineage ?? undefined });
        }),
      ),
    ),
    'operation:cancel': h(z.object({ opId: z.string().min(1).max(200) }).strict(), async (a) => ({ cancelled: s.runner.cancel(a.opId) })),

    'cluster:validate': h(workspaceRef, (a) => validateCluster(clusterWorkspaceOf(entry(a.workspaceId)), s.clusterEnv().processEnv)),
    'cluster:start': h(workspaceRef, (a) => report(clusterOp(a.workspaceId, 'cluster:start', (ws, ctx) => startCluster(s.clusterEnv(), ws, ctx)))),
    'cluster:stop': h(
      workspaceRef.extend({ timeoutSec: z.number().int().min(SETTINGS_LIMITS.stopTimeoutSec.min).max(SETTINGS_LIMITS.stopTimeoutSec.max).optional() }),
      (a) =>
        report(
          clusterOp(a.workspaceId, 'cluster:stop', (ws, ctx) =>
            stopCluster(s.clusterEnv(), ws, ctx, { timeoutSec: a.timeoutSec ?? s.settings.get('stopTimeoutSec') }),
          ),
        ),
    ),
    'cluster:destroy': h(workspaceRef.extend({ confirm: z.string().max(200) }), async (a) => {
      const e = entry(a.workspaceId);
      const recorded = await s.store.load(targetOf(e)).catch(() => null);
      requireConfirmation(recorded && 'cluster_name' in recorded && typeof recorded.cluster_name === 'string' ? recorded.cluster_name : e.name, a.confirm);
      return report(clusterOp(a.workspaceId, 'cluster:destroy', (ws, ctx) => destroyCluster(s.clusterEnv(), ws, ctx)));
    }),
    'cluster:refresh': h(workspaceRef.extend({ apply: z.boolean().optional() }), async (a) => {
      const { opId, value } = await s.operate(a.workspaceId, 'cluster:refresh', async (ctx, e) => {
        const r = await refreshCluster(s.clusterEnv(), clusterWorkspaceOf(e), ctx, { apply: a.apply ?? false });
        // Set before the operation's one publish, so its snapshot shows the drift on each VM.
        if (r.applied || r.drift.length === 0) s.vmDrift.delete(e.id);
        else s.vmDrift.set(e.id, vmDriftNotes(r.drift));
        return { ...r, outcomes: driftOutcomes(r.drift, r.applied) };
      });
      return { opId, drift: value.drift, applied: value.applied };
    }),
    'cluster:vm-action': h(workspaceRef.extend({ vm: z.string().min(1).max(200), action: vmActionSchema }), (a) =>
      report(clusterOp(a.workspaceId, 'cluster:vm-action', (ws, ctx) => vmAction(s.clusterEnv(), ws, ctx, a.vm, a.action))),
    ),
    'cluster:create-demo': h(z.object({ folder: absOrRelPath.optional() }).strict(), async (a) =>
      s.addWorkspace((await createDemoCluster(s.options.dataDir, a.folder)).configFile),
    ),

    'federation:start': h(workspaceRef, (a) => report(fedOp(a.workspaceId, 'federation:start', (ws, ctx) => startFederation(s.federationEnv(), ws, ctx)))),
    'federation:status': h(workspaceRef, (a) => s.snapshot(a.workspaceId)),
    'federation:probe': h(workspaceRef, async (a) => {
      const { value } = await s.operate(a.workspaceId, 'federation:probe', async (ctx, e) => {
        const probes = await probeFederation(s.federationEnv(), federationWorkspaceOf(e), ctx);
        return { probes, outcomes: probeOutcomes(probes) };
      });
      return value.probes;
    }),
    'federation:stop': h(workspaceRef, (a) => report(fedOp(a.workspaceId, 'federation:stop', (ws, ctx) => stopFederation(s.federationEnv(), ws, ctx)))),
    'federation:clean': h(workspaceRef.extend({ force: z.boolean().optional() }), (a) =>
      report(fedOp(a.workspaceId, 'federation:clean', (ws, ctx) => cleanFederation(s.federationEnv(), ws, ctx, { force: a.force ?? false }))),
    ),
    // A read-only query, not an operation: it works while another one (a start) is running.
    'federation:logs': h(workspaceRef.extend({ lines: z.number().int().min(1).max(10_000).optional() }), (a) =>
      federationLogs(s.federationEnv(), federationWorkspaceOf(entry(a.workspaceId)), simpleContext(AbortSignal.timeout(60_000)), { lines: a.lines ?? 50 }),
    ),
    'federation:trust-host': h(
      workspaceRef.extend({ host: z.string().min(1).max(255), port: z.number().int().min(1).max(65535), fingerprint: z.string().min(1).max(200) }),
      (a) => trustHostKey(s.federationEnv(), federationWorkspaceOf(entry(a.workspaceId)), a.host, a.port, a.fingerprint),
    ),
    'federation:create-demo': h(z.object({ folder: absOrRelPath.optional() }).strict(), async (a) =>
      s.addWorkspace(await createDemoFederation(s.options.dataDir, a.folder)),
    ),

    'state:export': h(workspaceRef.extend({ file: absOrRelPath.optional(), redactHome: z.boolean().optional() }), async (a) => {
      const { fileName, content, savedTo } = await exportState(s.store, shareTargetOf(entry(a.workspaceId)), {
        ...(a.file ? { file: a.file } : {}),
        redactHome: a.redactHome ?? false,
        appVersion: s.options.version,
      });
      return { fileName, content, savedTo };
    }),
    'state:import-preview': h(workspaceRef.extend({ content: bundleText }), (a) => previewStateImport(s.store, shareTargetOf(entry(a.workspaceId)), a.content)),
    'state:import': h(workspaceRef.extend({ content: bundleText, force: z.boolean().optional(), adopt: z.boolean().optional() }), (a) =>
      report(
        s.operate(a.workspaceId, 'state:import', async (ctx, e) => {
          const r = await importState(s.store, shareTargetOf(e), a.content, { force: a.force ?? false, adopt: a.adopt ?? false, signal: ctx.signal });
          if (r.written) s.registry.patch(e.id, { lineage: r.lineage });
          return { outcomes: r.written ? await checkAfterWrite(ctx, e.id) : [] };
        }),
      ),
    ),
    'state:adopt-preview': h(workspaceRef, (a) => previewAdoption(adoptTarget(entry(a.workspaceId)))),
    'state:adopt': h(workspaceRef, (a) =>
      report(
        s.operate(a.workspaceId, 'state:adopt', async (ctx, e) => {
          const r = await adoptState(adoptTarget(e), ctx);
          s.registry.patch(e.id, { lineage: r.state.lineage });
        }),
      ),
    ),
  } satisfies HandlerTable);
  return table;
}

/** A refresh's differences as per-target outcomes (`drift` until applied, then `recorded`), for the finished event. */
export function driftOutcomes(drift: readonly DriftItem[], applied: boolean): TargetOutcome[] {
  return drift.map((d) => ({
    target: d.name,
    result: applied ? 'recorded' : 'drift',
    message: `${d.resource} ${d.kind}${d.recorded !== null || d.actual !== null ? ` (recorded ${d.recorded ?? 'nothing'}, actual ${d.actual ?? 'nothing'})` : ''}`,
  }));
}

/** A probe's answers as per-machine outcomes (`alive`, `exited`, `unreachable`, `unknown`), for the finished event. */
export function probeOutcomes(probes: readonly MachineProbe[]): TargetOutcome[] {
  return probes.map((p) => {
    if (!p.reachable) return { target: p.machine, result: 'unreachable', ...(p.error ? { message: p.error.message, error: p.error } : {}) };
    const result = p.processAlive === true ? 'alive' : p.processAlive === false ? 'exited' : 'unknown';
    return { target: p.machine, result, ...(p.shutdownRequested ? { message: 'shutdown requested' } : {}) };
  });
}
