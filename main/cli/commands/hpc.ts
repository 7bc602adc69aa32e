import type { Command } from 'commander';
import type { DriftItem, TargetOutcome } from '../../../preload/contract';
import type { ClusterEnv } from '../../clusters/env';
import type { ClusterWorkspace } from '../../clusters/workspace';
import { AppError, isAppError, toErrorData } from '../../errors';
import { simpleContext, type OpContext } from '../../operations/types';
import type { ClusterState } from '../../state';
import { cliRuntime, execute, globals, refuseByRule, resolveWorkspace, type CommandResult, type GlobalOptions } from '../common';
import { EXIT, exitCodeForOutcomes, renderTable, worseExit } from '../format';

/**
 * The cluster domain (and through it libvirt's FFI), loaded only by the commands that use it, and per command: the
 * `service` barrel would load start's, destroy's and adoption's code (and the demo) for a read-only `status`.
 */
const envModule = () => import('../../clusters/env');
const domain = {
  workspace: () => import('../../clusters/workspace'),
  start: () => import('../../clusters/start'),
  stop: () => import('../../clusters/stop'),
  destroy: () => import('../../clusters/destroy'),
  refresh: () => import('../../clusters/refresh'),
};

interface HpcOptions {
  readonly state?: string;
  readonly connect?: string;
}

/** Resolves the cluster workspace and runs `fn` with a fresh env and a CLI context; the connections close after. */
async function withCluster(
  g: GlobalOptions,
  config: string,
  o: HpcOptions,
  fn: (env: ClusterEnv, ws: ClusterWorkspace, ctx: OpContext) => Promise<CommandResult>,
  action?: 'start' | 'stop' | 'destroy' | 'refresh',
): Promise<CommandResult> {
  const [{ store, settings }, { createClusterEnv }, { cliContext, progressMode }] = await Promise.all([
    cliRuntime(g),
    envModule(),
    // `status` reports no progress: it does not load the progress bars.
    action ? import('../progress') : { cliContext: null, progressMode: null },
  ]);
  const found = await resolveWorkspace(config, { ...(o.state ? { state: o.state } : {}), expect: 'cluster' });
  if (action) await refuseByRule(store, found, action);
  const ws: ClusterWorkspace = { configFile: found.configFile, statePath: found.statePath, ...(o.connect ? { libvirtUri: o.connect } : {}) };
  const env = createClusterEnv({ store, stopTimeoutSec: settings.get('stopTimeoutSec'), parallelism: settings.get('parallelism') });
  const ctx = cliContext && progressMode ? cliContext(progressMode(g.json ?? false)) : null;
  try {
    return await fn(env, ws, ctx ?? simpleContext());
  } finally {
    ctx?.done();
    await env.dispose();
  }
}

function outcomesTable(outcomes: readonly TargetOutcome[]): string {
  return outcomes.length
    ? renderTable(
        ['TARGET', 'RESULT', 'MESSAGE'],
        outcomes.map((o) => [o.target, o.result, o.error?.message ?? o.message ?? '']),
      )
    : 'Nothing to do.';
}

function vmTable(state: ClusterState | null): string {
  if (!state) return 'No cluster recorded.';
  return [
    `cluster ${state.cluster_name}: ${state.status} (${state.serial === undefined ? 'not adopted yet: run `clusterdesk state adopt`' : `serial ${state.serial}`})`,
    renderTable(
      ['VM', 'STATE', 'IP', 'CPU', 'MEM GB', 'GPU', 'LAST SEEN'],
      state.vms.map((v) => [v.name, v.state, v.ip_address, v.cpu_cores, v.memory_gb, v.gpu_count, v.last_seen]),
    ),
  ].join('\n');
}

function driftLines(drift: readonly DriftItem[]): string {
  if (!drift.length) return 'No drift: libvirt matches the record.';
  return ['Drift (recorded → actual):', ...drift.map((d) => `  ${d.kind.padEnd(14)} ${d.resource} ${d.name}: ${d.recorded ?? '-'} → ${d.actual ?? '-'}`)].join(
    '\n',
  );
}

/** An operation's result: outcomes, exit 0 when all worked, 4 when some targets failed or the cluster is partial. */
async function operationResult(env: ClusterEnv, ws: ClusterWorkspace, outcomes: readonly TargetOutcome[]): Promise<CommandResult> {
  const state = await env.store.load({ kind: 'cluster', file: ws.statePath });
  const partial = state?.status === 'partial' || state?.status === 'error';
  const exit = worseExit(partial ? EXIT.unreachable : EXIT.ok, exitCodeForOutcomes(outcomes));
  return { human: `${outcomesTable(outcomes)}\n\n${vmTable(state)}`, json: { outcomes, status: state?.status ?? 'none', state }, exit };
}

/** `clusterdesk hpc …`: AI-HOW's commands on the same state files. */
export function hpcCommands(program: Command): void {
  const hpc = program.command('hpc').description('HPC clusters of libvirt VMs (AI-HOW cluster.yaml)');
  const common = (c: Command) =>
    c
      .argument('[config]', 'cluster.yaml (or its folder)', '.')
      .option('--state <path>', 'state file (default: $AI_HOW_STATE_FILE or output/state.json beside the config)')
      .option('--connect <uri>', 'libvirt URI (default: the config’s clusterdesk.libvirt_uri, $LIBVIRT_DEFAULT_URI, qemu:///system)');

  common(hpc.command('validate').description('check the config and print what start would create')).action((config: string, o: HpcOptions, cmd: Command) =>
    execute(globals(cmd), async () => {
      let found: Awaited<ReturnType<typeof resolveWorkspace>>;
      try {
        found = await resolveWorkspace(config, { ...(o.state ? { state: o.state } : {}), expect: 'cluster' });
      } catch (err) {
        // A config that is not even YAML is an invalid config: the documented `{valid: false, errors}` answer, exit 1.
        if (!isAppError(err, 'config-invalid')) throw err;
        const error = toErrorData(err);
        return {
          human: ['Invalid:', `  ${error.message}`, ...(error.hint ? [`    hint: ${error.hint}`] : [])].join('\n'),
          json: { valid: false, errors: [error], plan: [] },
          exit: EXIT.failed,
        };
      }
      const { validateCluster } = await domain.workspace();
      const report = await validateCluster({ configFile: found.configFile, statePath: found.statePath, ...(o.connect ? { libvirtUri: o.connect } : {}) });
      // Config errors already say `file:line: field: what`.
      const human = report.valid
        ? ['Valid. Start would create:', ...report.plan.map((p) => `  ${p.resource.padEnd(8)} ${p.name}`)].join('\n')
        : ['Invalid:', ...report.errors.flatMap((e) => [`  ${e.message}`, ...(e.hint ? [`    hint: ${e.hint}`] : [])])].join('\n');
      return { human, json: { ...report }, exit: report.valid ? EXIT.ok : EXIT.failed };
    }),
  );

  common(hpc.command('start').description('create the network, pool, volumes and VMs, and start them (resumable)')).action(
    (config: string, o: HpcOptions, cmd: Command) =>
      execute(globals(cmd), () =>
        withCluster(
          globals(cmd),
          config,
          o,
          async (env, ws, ctx) => operationResult(env, ws, (await (await domain.start()).startCluster(env, ws, ctx)).outcomes),
          'start',
        ),
      ),
  );

  common(hpc.command('stop').description('shut every VM down, forcing off after the timeout'))
    .option('--timeout <seconds>', 'graceful shutdown timeout before forcing off (default: the setting, 60)')
    .action((config: string, o: HpcOptions & { timeout?: string }, cmd: Command) =>
      execute(globals(cmd), () =>
        withCluster(
          globals(cmd),
          config,
          o,
          async (env, ws, ctx) => {
            const timeoutSec = o.timeout === undefined ? undefined : Number(o.timeout);
            if (timeoutSec !== undefined && (!Number.isFinite(timeoutSec) || timeoutSec < 0)) {
              throw new AppError('invalid-argument', `--timeout must be a number of seconds, got ${o.timeout}.`);
            }
            return operationResult(env, ws, (await (await domain.stop()).stopCluster(env, ws, ctx, timeoutSec === undefined ? {} : { timeoutSec })).outcomes);
          },
          'stop',
        ),
      ),
    );

  common(hpc.command('destroy').description('remove the VMs, volumes, pool and network Clusterdesk created, and clear the state'))
    .option('--force', 'confirm the destruction (required)')
    .action((config: string, o: HpcOptions & { force?: boolean }, cmd: Command) =>
      execute(globals(cmd), async () => {
        if (!o.force) {
          throw new AppError('confirmation-required', 'destroy deletes the cluster’s VMs and disks.', {
            hint: 'Run `clusterdesk hpc status` to see what would go, then add --force.',
          });
        }
        return withCluster(
          globals(cmd),
          config,
          o,
          async (env, ws, ctx) => operationResult(env, ws, (await (await domain.destroy()).destroyCluster(env, ws, ctx)).outcomes),
          'destroy',
        );
      }),
    );

  common(hpc.command('status').description('the recorded state and what libvirt reports now (read-only)')).action(
    (config: string, o: HpcOptions, cmd: Command) =>
      execute(globals(cmd), () => {
        const refresh = domain.refresh(); // loads while the runtime and the workspace do
        return withCluster(globals(cmd), config, o, async (env, ws) => {
          const r = await (await refresh).clusterStatus(env, ws);
          return { human: `${vmTable(r.recorded)}\n\n${driftLines(r.drift)}\n(libvirt: ${r.uri})`, json: { uri: r.uri, recorded: r.recorded, drift: r.drift } };
        });
      }),
  );

  common(hpc.command('refresh').description('compare the record with libvirt; --apply writes what libvirt reports'))
    .option('--apply', 'write the refreshed state (after showing the drift)')
    .action((config: string, o: HpcOptions & { apply?: boolean }, cmd: Command) =>
      execute(globals(cmd), () =>
        withCluster(
          globals(cmd),
          config,
          o,
          async (env, ws, ctx) => {
            const r = await (await domain.refresh()).refreshCluster(env, ws, ctx, { apply: o.apply ?? false });
            const tail = r.applied
              ? 'Applied: the state now records what libvirt reports.'
              : r.drift.length
                ? 'Not written; re-run with --apply to record it.'
                : '';
            return {
              human: [driftLines(r.drift), tail, '', vmTable(r.state)].filter((l, i) => l || i > 1).join('\n'),
              json: { drift: r.drift, applied: r.applied, state: r.state },
            };
          },
          'refresh',
        ),
      ),
    );
}
