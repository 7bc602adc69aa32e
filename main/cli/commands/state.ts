import { readFile } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import type { Command } from 'commander';
import { version as APP_VERSION } from '../../../package.json';
import { AppError } from '../../errors';
import type { AdoptionPreview } from '../../../preload/contract';
import type { AdoptTarget } from '../../sharing/adopt';
import { cliRuntime, execute, globals, resolveWorkspace, type CliWorkspace } from '../common';
import { EXIT, renderTable } from '../format';

const share = (ws: CliWorkspace) => ({ kind: ws.kind, name: ws.name, target: ws.target });

/** The preview as the CLI prints it: what is taken over (+), what is left alone (-), dropped secrets, kept fields. */
export function renderAdoptionPreview(p: AdoptionPreview): string {
  if (!p.needed) return p.message;
  const lines = [p.message, `format: ${p.format}; recorded status: ${String(p.status)}`];
  const taken = p.items.filter((i) => i.matched);
  const left = p.items.filter((i) => !i.matched);
  if (taken.length) lines.push('', 'Taken over:', ...taken.map((i) => `  + ${i.kind} ${i.name} (${i.detail}): ${i.reason}`));
  if (left.length) lines.push('', 'Not matched — left alone, never operated on:', ...left.map((i) => `  - ${i.kind} ${i.name} (${i.detail}): ${i.reason}`));
  if (p.secretsDropped.length) lines.push('', `Secrets not kept (also removed from the original kept in history): ${p.secretsDropped.join(', ')}`);
  if (p.keptFields.length) lines.push('', `Fields kept as written: ${p.keptFields.join(', ')}`);
  return lines.join('\n');
}

/** `clusterdesk state …`: show, backups, restore, unlock, export, import, push, pull, adopt. */
export function stateCommands(program: Command): void {
  const state = program.command('state').description('inspect and manage a workspace’s state file (either kind)');
  const wsArg = ['[workspace]', 'a folder with refedez.yaml or cluster.yaml, or the cluster config file', '.'] as const;

  state
    .command('show')
    .description('print the recorded state')
    .argument(...wsArg)
    .option('--state <path>', 'cluster state file (default: $AI_HOW_STATE_FILE or output/state.json beside the config)')
    .action((path: string, o: { state?: string }, cmd: Command) =>
      execute(globals(cmd), async () => {
        const { store } = await cliRuntime(globals(cmd));
        const ws = await resolveWorkspace(path, o);
        const { isFederationState, summarize } = await import('../../state');
        const [current, lock] = await Promise.all([store.load(ws.target), store.lockInfo(ws.target)]);
        const summary = current ? { ...summarize(current), serial: current.serial ?? null, lineage: current.lineage ?? null } : null;
        const status = summary?.status ?? (ws.kind === 'federation' ? 'clean' : 'none');
        const lines = [`${ws.kind} ${ws.name}: ${status}`, `state file: ${ws.statePath}`];
        if (summary) lines.push(`serial ${String(summary.serial)}, lineage ${String(summary.lineage)}`);
        if (lock) lines.push(`locked by ${lock.operation} (pid ${lock.pid} on ${lock.host} since ${lock.since}, id ${lock.id})${lock.stale ? ' — stale' : ''}`);
        if (current && !isFederationState(current)) {
          lines.push(
            '',
            renderTable(
              ['VM', 'STATE', 'IP', 'CPU', 'MEM GB', 'GPU'],
              current.vms.map((v) => [v.name, v.state, v.ip_address, v.cpu_cores, v.memory_gb, v.gpu_count]),
            ),
          );
        } else if (current) {
          const machines = (current.data as { machines?: { name: string; kind: string; host: string; user: string; tmp_dir: string }[] }).machines ?? [];
          if (machines.length)
            lines.push(
              '',
              renderTable(
                ['MACHINE', 'KIND', 'HOST', 'USER', 'TEMP DIR'],
                machines.map((m) => [m.name, m.kind, m.host, m.user, m.tmp_dir]),
              ),
            );
        }
        return {
          human: lines.join('\n'),
          json: { workspace: { kind: ws.kind, name: ws.name, path: ws.path, statePath: ws.statePath }, status, summary, lock, state: current },
        };
      }),
    );

  state
    .command('backups')
    .description('list the backups and history generations, marking the valid ones')
    .argument(...wsArg)
    .option('--state <path>', 'cluster state file')
    .action((path: string, o: { state?: string }, cmd: Command) =>
      execute(globals(cmd), async () => {
        const { store } = await cliRuntime(globals(cmd));
        const ws = await resolveWorkspace(path, o);
        const backups = await store.backups(ws.target);
        const human = backups.length
          ? renderTable(
              ['ID', 'SAVED', 'SERIAL', 'STATUS', 'COUNT', 'VALID'],
              backups.map((b) => [b.id, b.savedAt, b.serial, b.status, b.count, b.valid ? 'yes' : `no: ${b.error ?? ''}`]),
            )
          : 'No backups yet.';
        return { human, json: { backups } };
      }),
    );

  state
    .command('restore')
    .description('write a backup as a new generation (the current one stays in history)')
    .argument('<id>', 'backup id from `state backups`')
    .argument(...wsArg)
    .option('--state <path>', 'cluster state file')
    .option('--adopt', 'allow a backup of another lineage')
    .action((id: string, path: string, o: { state?: string; adopt?: boolean }, cmd: Command) =>
      execute(globals(cmd), async () => {
        const { store } = await cliRuntime(globals(cmd));
        const ws = await resolveWorkspace(path, o);
        const { summarize } = await import('../../state');
        const written = await store.restore(ws.target, id, { adopt: o.adopt ?? false });
        const { status } = summarize(written);
        return {
          human: `Restored ${id}: serial ${written.serial}, status ${status}.`,
          json: { restored: id, serial: written.serial, lineage: written.lineage, status },
        };
      }),
    );

  state
    .command('unlock')
    .description('break a state lock left by a crashed process (needs the exact lock id)')
    .argument('<lock-id>', 'the id shown by `state show`')
    .argument(...wsArg)
    .option('--state <path>', 'cluster state file')
    .action((lockId: string, path: string, o: { state?: string }, cmd: Command) =>
      execute(globals(cmd), async () => {
        const { store } = await cliRuntime(globals(cmd));
        const ws = await resolveWorkspace(path, o);
        await store.forceUnlock(ws.target, lockId);
        return { human: `Unlocked ${ws.statePath} (lock ${lockId}).`, json: { unlocked: lockId } };
      }),
    );

  state
    .command('export')
    .description('write the state as a .cdstate bundle (redacted: no passwords, keys or tokens)')
    .argument('<file>', 'bundle to write')
    .argument(...wsArg)
    .option('--state <path>', 'cluster state file')
    .option('--redact-home', 'replace your home folder with ~ in every path')
    .action((file: string, path: string, o: { state?: string; redactHome?: boolean }, cmd: Command) =>
      execute(globals(cmd), async () => {
        const { store } = await cliRuntime(globals(cmd));
        const ws = await resolveWorkspace(path, o);
        const { exportState } = await import('../../sharing/service');
        const { bundle, savedTo } = await exportState(store, share(ws), { file, redactHome: o.redactHome ?? false, appVersion: APP_VERSION });
        return {
          human: `Exported ${ws.name} (serial ${bundle.serial}, lineage ${bundle.lineage.slice(0, 8)}) to ${savedTo}.`,
          json: { file: savedTo, serial: bundle.serial, lineage: bundle.lineage, sha256: bundle.sha256, redacted: bundle.redacted },
        };
      }),
    );

  state
    .command('adopt')
    .description('take over a state file written by ReFedEz or AI-HOW (preview with --dry-run)')
    .argument(...wsArg)
    .option('--state <path>', 'cluster state file')
    .option('--connect <uri>', 'libvirt URI for a cluster (default: the config’s clusterdesk.libvirt_uri, $LIBVIRT_DEFAULT_URI, qemu:///system)')
    .option('--dry-run', 'only show what would be taken over')
    .action((path: string, o: { state?: string; connect?: string; dryRun?: boolean }, cmd: Command) =>
      execute(globals(cmd), async () => {
        const g = globals(cmd);
        const { store, settings } = await cliRuntime(g);
        const ws = await resolveWorkspace(path, o);
        const [{ adoptState, previewAdoption }, { cliContext, progressMode }] = await Promise.all([import('../../sharing/adopt'), import('../progress')]);
        const { createClusterEnv } = ws.kind === 'cluster' ? await import('../../clusters/env') : { createClusterEnv: null };
        const clusterEnv = createClusterEnv
          ? createClusterEnv({ store, stopTimeoutSec: settings.get('stopTimeoutSec'), parallelism: settings.get('parallelism') })
          : null;
        const target: AdoptTarget = clusterEnv
          ? { kind: 'cluster', env: clusterEnv, ws: { configFile: ws.configFile, statePath: ws.statePath, ...(o.connect ? { libvirtUri: o.connect } : {}) } }
          : {
              kind: 'federation',
              env: { store, parallelism: settings.get('parallelism'), connectTimeoutMs: settings.get('sshConnectTimeoutMs') },
              ws: { folder: ws.path, configFile: ws.configFile, statePath: ws.statePath },
            };
        try {
          if (o.dryRun) {
            const preview = await previewAdoption(target);
            return { human: renderAdoptionPreview(preview), json: { preview, adopted: false } };
          }
          const ctx = cliContext(progressMode(g.json ?? false));
          try {
            const { preview, state: written } = await adoptState(target, ctx);
            return {
              human: `${renderAdoptionPreview(preview)}\n\nAdopted: serial ${written.serial}, lineage ${written.lineage}. The original is kept in history (redacted).`,
              json: { preview, adopted: true, serial: written.serial, lineage: written.lineage },
            };
          } finally {
            ctx.done();
          }
        } finally {
          await clusterEnv?.dispose();
        }
      }),
    );

  state
    .command('import')
    .description('apply a .cdstate bundle with Terraform’s push rules (preview first)')
    .argument('<file>', 'bundle to read')
    .argument(...wsArg)
    .option('--state <path>', 'cluster state file')
    .option('--force', 'accept an older or equal serial with different content')
    .option('--adopt', 'accept a bundle of another lineage')
    .option('--dry-run', 'only show the preview')
    .action((file: string, path: string, o: { state?: string; force?: boolean; adopt?: boolean; dryRun?: boolean }, cmd: Command) =>
      execute(globals(cmd), async () => {
        const { store } = await cliRuntime(globals(cmd));
        const ws = await resolveWorkspace(path, o);
        const content = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
          throw new AppError('bundle-invalid', `Cannot read ${file}: ${err.code ?? err.message}.`, { path: file });
        });
        const { importState, previewStateImport } = await import('../../sharing/service');
        const preview = await previewStateImport(store, share(ws), content);
        const diff = [
          `verdict: ${preview.verdict} — ${preview.reason}`,
          `serial ${String(preview.current.serial)} → ${preview.incoming.serial}; status ${String(preview.current.status)} → ${String(preview.incoming.status)}`,
          ...preview.added.map((n) => `  + ${n}`),
          ...preview.removed.map((n) => `  - ${n}`),
          ...preview.changed.map((n) => `  ~ ${n}`),
        ].join('\n');
        if (o.dryRun) return { human: diff, json: { preview, written: false }, exit: EXIT.ok };
        const r = await importState(store, share(ws), content, { force: o.force ?? false, adopt: o.adopt ?? false });
        return { human: `${diff}\n${r.written ? 'Imported.' : 'Nothing to do: identical.'}`, json: { preview: r.preview, written: r.written } };
      }),
    );

  state
    .command('push')
    .description('move the state and its history to a PostgreSQL backend (like terraform init -migrate-state)')
    .argument(...wsArg)
    .requiredOption('--to <url>', 'postgres://USER@HOST:PORT/DATABASE?schema=NAME (no password: use ~/.pgpass or PGPASSWORD)')
    .option('--key <key>', 'the workspace key in the backend (default: the cluster or federation name)')
    .option('--state <path>', 'cluster state file')
    .option('--adopt', 'replace a state of another lineage at the target')
    .action((path: string, o: { to: string; key?: string; state?: string; adopt?: boolean }, cmd: Command) =>
      execute(globals(cmd), async () => {
        const { store, settings } = await cliRuntime(globals(cmd));
        const ws = await resolveWorkspace(path, o);
        const { PgStateBackend } = await import('../../state/backends/postgres');
        const { pushToBackend } = await import('../../state/backends/migrate');
        const backend = PgStateBackend.create(o.to, { historyLimit: settings.get('historyLimit'), lockTimeoutMs: settings.get('lockTimeoutMs') });
        try {
          const key = o.key ?? ws.backend?.key ?? ws.name;
          // From the local file, even when the config already names a backend (that is the move being made).
          const r = await pushToBackend(store, { ...ws.target, backend: null }, backend, { kind: ws.kind, key }, { adopt: o.adopt ?? false });
          return {
            human: `Pushed ${ws.name} to ${backend.labelOf(key)}: ${r.generations} generation(s), serial ${r.serial}, lineage ${r.lineage.slice(0, 8)}.`,
            json: { backend: backend.location.label, key, ...r },
          };
        } finally {
          await backend.close();
        }
      }),
    );

  state
    .command('pull')
    .description('copy the state and its history from a PostgreSQL backend into a state file')
    .argument(...wsArg)
    .requiredOption('--from <url>', 'postgres://USER@HOST:PORT/DATABASE?schema=NAME')
    .option('--key <key>', 'the workspace key in the backend (default: the cluster or federation name)')
    .option('--to-file <path>', 'the state file to write (default: the workspace’s state file)')
    .option('--state <path>', 'cluster state file')
    .option('--adopt', 'replace a state file of another lineage')
    .action((path: string, o: { from: string; key?: string; toFile?: string; state?: string; adopt?: boolean }, cmd: Command) =>
      execute(globals(cmd), async () => {
        const { store } = await cliRuntime(globals(cmd));
        const ws = await resolveWorkspace(path, o);
        const { PgStateBackend } = await import('../../state/backends/postgres');
        const { pullToFile } = await import('../../state/backends/migrate');
        const backend = PgStateBackend.create(o.from);
        try {
          const key = o.key ?? ws.backend?.key ?? ws.name;
          const file = o.toFile ? resolvePath(o.toFile) : ws.statePath;
          const r = await pullToFile(backend, { kind: ws.kind, key }, store, { ...ws.target, file, backend: null }, { adopt: o.adopt ?? false });
          return {
            human: `Pulled ${backend.labelOf(key)} into ${file}: ${r.generations} generation(s), serial ${r.serial}.`,
            json: { backend: backend.location.label, key, file, ...r },
          };
        } finally {
          await backend.close();
        }
      }),
    );
}
