import type { Command } from 'commander';
import type { MachineLog, MachineProbe, TargetOutcome } from '../../../preload/contract';
import type { FederationEnv, FederationResult, FederationWorkspace } from '../../federations/env';
import type { OpContext } from '../../operations/types';
import { cliRuntime, execute, globals, refuseByRule, resolveWorkspace, type CommandResult, type GlobalOptions } from '../common';
import { EXIT, exitCodeForOutcomes, renderTable } from '../format';

/** The federation domain (and through it ssh2), loaded only by the commands that reach machines. */
const service = () => import('../../federations/service');
const inspect = () => import('../../federations/inspect');

interface FedOptions {
  readonly acceptNew?: boolean;
}

/** Resolves the federation workspace and runs `fn` with an env built from the settings and a CLI context. */
async function withFederation(
  g: GlobalOptions,
  config: string,
  o: FedOptions,
  fn: (env: FederationEnv, ws: FederationWorkspace, ctx: OpContext) => Promise<CommandResult>,
  rule?: { readonly action: 'start' | 'probe' | 'stop' | 'clean'; readonly force?: boolean },
): Promise<CommandResult> {
  const [{ store, settings }, { cliContext, progressMode }] = await Promise.all([cliRuntime(g), import('../progress')]);
  const found = await resolveWorkspace(config, { expect: 'federation' });
  if (rule) await refuseByRule(store, found, rule.action, rule.force ? { force: true } : {});
  const ws: FederationWorkspace = { folder: found.path, configFile: found.configFile, statePath: found.statePath };
  const env: FederationEnv = {
    store,
    parallelism: settings.get('parallelism'),
    connectTimeoutMs: settings.get('sshConnectTimeoutMs'),
    acceptNewHostKeys: o.acceptNew ?? false,
  };
  const ctx = cliContext(progressMode(g.json ?? false));
  try {
    return await fn(env, ws, ctx);
  } finally {
    ctx.done();
  }
}

function outcomes(result: FederationResult): CommandResult {
  const rows = result.outcomes.map((o: TargetOutcome) => [o.target, o.result, o.error ? `${o.error.code}: ${o.error.message}` : (o.message ?? '')]);
  const table = rows.length ? renderTable(['MACHINE', 'RESULT', 'MESSAGE'], rows) : 'Nothing to do.';
  return {
    human: `${table}\n\nstatus: ${result.status}`,
    json: { status: result.status, outcomes: result.outcomes },
    exit: exitCodeForOutcomes(result.outcomes),
  };
}

/** `clusterdesk fed …`: ReFedEz's commands on the same state files. */
export function fedCommands(program: Command): void {
  const fed = program.command('fed').description('federated-learning deployments over SSH (ReFedEz refedez.yaml)');
  const common = (c: Command) =>
    c
      .argument('[config]', 'refedez.yaml or its folder', 'refedez.yaml')
      .option('--accept-new', 'trust and record host keys seen for the first time (a changed key is always refused)');

  common(fed.command('start').description('provision, upload each kit to a fresh temp dir on its machine and launch it')).action(
    (config: string, o: FedOptions, cmd: Command) =>
      execute(globals(cmd), () =>
        withFederation(globals(cmd), config, o, async (env, ws, ctx) => outcomes(await (await service()).startFederation(env, ws, ctx)), { action: 'start' }),
      ),
  );

  common(fed.command('status').description('the recorded state (clean / running / dirty) and its machines')).action(
    (config: string, _o: FedOptions, cmd: Command) =>
      execute(globals(cmd), async () => {
        // Reads the state file only: no context, no progress bars, no SSH.
        const [{ store }, { isFederationState }] = await Promise.all([cliRuntime(globals(cmd)), import('../../state')]);
        const ws = await resolveWorkspace(config, { expect: 'federation' });
        const state = await store.load({ kind: 'federation', file: ws.statePath });
        const type = state && isFederationState(state) ? state.type : 'clean';
        const machines =
          (state?.data as { machines?: { name: string; kind: string; host: string; user: string; tmp_dir: string; started_at?: string }[] } | undefined)
            ?.machines ?? [];
        const table = machines.length
          ? `\n${renderTable(
              ['MACHINE', 'KIND', 'HOST', 'USER', 'TEMP DIR', 'STARTED'],
              machines.map((m) => [m.name, m.kind, m.host, m.user, m.tmp_dir, m.started_at]),
            )}`
          : '';
        return { human: `status: ${type}${table}`, json: { status: type, machines } };
      }),
  );

  common(fed.command('probe').description('read-only health check of every recorded machine')).action((config: string, o: FedOptions, cmd: Command) =>
    execute(globals(cmd), () =>
      withFederation(globals(cmd), config, o, async (env, ws, ctx) => {
        const probes: readonly MachineProbe[] = await (await inspect()).probeFederation(env, ws, ctx);
        const yesNo = (b: boolean | null) => (b === null ? '?' : b ? 'yes' : 'no');
        const human = probes.length
          ? renderTable(
              ['MACHINE', 'REACHABLE', 'ALIVE', 'SHUTDOWN ASKED', 'LAST LOG LINE'],
              probes.map((p) => [
                p.machine,
                p.reachable ? 'yes' : `no (${p.error?.code ?? ''})`,
                yesNo(p.processAlive),
                yesNo(p.shutdownRequested),
                p.lastLogLine ?? '',
              ]),
            )
          : 'No machines recorded.';
        const exit = probes.some((p) => !p.reachable) ? EXIT.unreachable : EXIT.ok;
        return { human, json: { probes }, exit };
      }),
    ),
  );

  common(fed.command('stop').description('create shutdown.fl on every machine (safe to repeat)')).action((config: string, o: FedOptions, cmd: Command) =>
    execute(globals(cmd), () =>
      withFederation(globals(cmd), config, o, async (env, ws, ctx) => outcomes(await (await service()).stopFederation(env, ws, ctx))),
    ),
  );

  common(fed.command('clean').description('remove the temp dirs and the state folder (from dirty)'))
    .option('--force', 'clean a running federation: stop it first')
    .action((config: string, o: FedOptions & { force?: boolean }, cmd: Command) =>
      execute(globals(cmd), () =>
        withFederation(
          globals(cmd),
          config,
          o,
          async (env, ws, ctx) => outcomes(await (await service()).cleanFederation(env, ws, ctx, { force: o.force ?? false })),
          {
            action: 'clean',
            force: o.force ?? false,
          },
        ),
      ),
    );

  common(fed.command('logs').description('the last lines of every machine’s log'))
    .option('-n, --lines <n>', 'lines per machine', '20')
    .action((config: string, o: FedOptions & { lines: string }, cmd: Command) =>
      execute(globals(cmd), () =>
        withFederation(globals(cmd), config, o, async (env, ws, ctx) => {
          const logs: readonly MachineLog[] = await (await inspect()).federationLogs(env, ws, ctx, { lines: Number(o.lines) || 20 });
          const human = logs.length
            ? logs.map((l) => [`== ${l.machine} ==`, ...(l.error ? [`(${l.error.code}: ${l.error.message})`] : l.lines)].join('\n')).join('\n\n')
            : 'No machines recorded.';
          return { human, json: { logs }, exit: logs.some((l) => l.error) ? EXIT.unreachable : EXIT.ok };
        }),
      ),
    );
}
