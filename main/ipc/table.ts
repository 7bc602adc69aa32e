import { z } from 'zod';
import { SETTINGS_LIMITS } from '../../preload/settings-limits';
import { AppError } from '../errors';
import type { AppServices } from '../services';
import { exactSchemas, type HandlerTable } from './dispatch';
import { absOrRelPath, bundleText, empty, workspaceRef } from './schemas';

/**
 * A handler whose argument type is what its schema parses, and nothing else: the table's `HandlerTable` type then
 * checks that type against the contract in both directions (see `Handler`). No cast anywhere.
 */
export function h<S extends z.ZodType, R>(schema: S, handle: (arg: z.output<S>) => Promise<R>): { readonly schema: S; readonly handle: (arg: z.output<S>) => Promise<R> } {
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
    })
    .strict();
}

const vmAction = z.enum(['start', 'shutdown', 'force-off', 'pause', 'resume', 'reboot']);

/**
 * The one table of IPC handlers. Every transport (Electron IPC, WebSocket) binds exactly this; each handler validates
 * its argument and calls a service.
 */
export function createHandlerTable(s: AppServices): HandlerTable {
  const domain = <T>(name: string, svc: T | undefined): T => {
    if (!svc) throw new AppError('unsupported', `${name} is not available in this build.`);
    return svc;
  };
  return exactSchemas({
    'app:info': h(empty, async () => s.info()),
    'settings:get': h(empty, async () => s.getSettings()),
    'settings:set': h(settingsSchema(), async (a) => s.setSettings(a)),
    'workspaces:list': h(empty, async () => s.registry.list()),
    'workspaces:add': h(z.object({ path: absOrRelPath, statePath: absOrRelPath.optional() }).strict(), (a) => s.addWorkspace(a.path, a.statePath)),
    'workspaces:remove': h(workspaceRef, async (a) => s.removeWorkspace(a.workspaceId)),
    // A state that cannot be read answers its error (state-corrupt, -mismatch, -foreign …); events still carry the
    // snapshot with its `error` field so the list and the tray can show it.
    'workspace:snapshot': h(workspaceRef, async (a) => {
      const snap = await s.snapshot(a.workspaceId);
      if (snap.error) throw AppError.fromData(snap.error);
      return snap;
    }),
    'state:backups': h(workspaceRef, (a) => s.backups(a.workspaceId)),
    'state:restore': h(workspaceRef.extend({ backupId: z.string().min(1).max(500), adopt: z.boolean().optional() }), (a) =>
      s.restore(a.workspaceId, a.backupId, a.adopt ?? false),
    ),
    'state:unlock': h(workspaceRef.extend({ lockId: z.string().min(1).max(200) }), (a) => s.unlock(a.workspaceId, a.lockId)),
    'workspace:adopt-lineage': h(workspaceRef, (a) => s.adoptLineage(a.workspaceId)),
    'operation:cancel': h(z.object({ opId: z.string().min(1).max(200) }).strict(), async (a) => ({ cancelled: s.runner.cancel(a.opId) })),

    'cluster:validate': h(workspaceRef, (a) => domain('Clusters', s.clusters).validate(a.workspaceId)),
    'cluster:start': h(workspaceRef, (a) => domain('Clusters', s.clusters).start(a.workspaceId)),
    'cluster:stop': h(workspaceRef.extend({ timeoutSec: z.number().int().min(SETTINGS_LIMITS.stopTimeoutSec.min).max(SETTINGS_LIMITS.stopTimeoutSec.max).optional() }), (a) =>
      domain('Clusters', s.clusters).stop(a.workspaceId, a.timeoutSec),
    ),
    'cluster:destroy': h(workspaceRef.extend({ confirm: z.string().max(200) }), (a) =>
      domain('Clusters', s.clusters).destroy(a.workspaceId, a.confirm),
    ),
    'cluster:refresh': h(workspaceRef.extend({ apply: z.boolean().optional() }), (a) =>
      domain('Clusters', s.clusters).refresh(a.workspaceId, a.apply ?? false),
    ),
    'cluster:vm-action': h(workspaceRef.extend({ vm: z.string().min(1).max(200), action: vmAction }), (a) =>
      domain('Clusters', s.clusters).vmAction(a.workspaceId, a.vm, a.action),
    ),
    'cluster:create-demo': h(z.object({ folder: absOrRelPath.optional() }).strict(), (a) => domain('Clusters', s.clusters).createDemo(a.folder)),

    'federation:start': h(workspaceRef, (a) => domain('Federations', s.federations).start(a.workspaceId)),
    'federation:status': h(workspaceRef, (a) => s.snapshot(a.workspaceId)),
    'federation:probe': h(workspaceRef, (a) => domain('Federations', s.federations).probe(a.workspaceId)),
    'federation:stop': h(workspaceRef, (a) => domain('Federations', s.federations).stop(a.workspaceId)),
    'federation:clean': h(workspaceRef.extend({ force: z.boolean().optional() }), (a) =>
      domain('Federations', s.federations).clean(a.workspaceId, a.force ?? false),
    ),
    'federation:logs': h(workspaceRef.extend({ lines: z.number().int().min(1).max(10_000).optional() }), (a) =>
      domain('Federations', s.federations).logs(a.workspaceId, a.lines ?? 50),
    ),
    'federation:trust-host': h(
      workspaceRef.extend({ host: z.string().min(1).max(255), port: z.number().int().min(1).max(65535), fingerprint: z.string().min(1).max(200) }),
      (a) => domain('Federations', s.federations).trustHost(a.workspaceId, a.host, a.port, a.fingerprint),
    ),
    'federation:create-demo': h(z.object({ folder: absOrRelPath.optional() }).strict(), (a) =>
      domain('Federations', s.federations).createDemo(a.folder),
    ),

    'state:export': h(workspaceRef.extend({ file: absOrRelPath.optional(), redactHome: z.boolean().optional() }), (a) =>
      domain('Sharing', s.sharing).exportBundle(a.workspaceId, { file: a.file, redactHome: a.redactHome ?? false }),
    ),
    'state:import-preview': h(workspaceRef.extend({ content: bundleText }), (a) =>
      domain('Sharing', s.sharing).preview(a.workspaceId, a.content),
    ),
    'state:import': h(workspaceRef.extend({ content: bundleText, force: z.boolean().optional(), adopt: z.boolean().optional() }), (a) =>
      domain('Sharing', s.sharing).importBundle(a.workspaceId, a.content, { force: a.force ?? false, adopt: a.adopt ?? false }),
    ),
  } satisfies HandlerTable);
}
