import type { Command } from 'commander';
import type { ClusterStatus, ErrorData, FederationStatus, WorkspaceKind } from '../../preload/contract';
import { clusterActions, federationActions, type ClusterAction, type FederationAction } from '../../preload/workspace-actions';
import { AppError, setHintHost, toErrorData } from '../errors';
import type { Settings } from '../settings/settings';
import type { BackendSpec, StateStore, StateTarget } from '../state';
import { EXIT, exitCodeFor, renderError, type ExitCode } from './format';
import { whileBusy } from './signals';
import { redactText } from '../secrets/redact';

/** What every command prints: a human text and a JSON value (the `--json` shape), and its exit code. */
export interface CommandResult {
  readonly human: string;
  readonly json: Record<string, unknown>;
  readonly exit?: ExitCode;
}

/** Global options shared by every command. */
export interface GlobalOptions {
  readonly json?: boolean;
  readonly dataDir?: string;
}

export function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals() as GlobalOptions;
}

/**
 * Runs a command body and prints its result: `{"ok":true,…}` / `{"ok":false,"error":{…}}` with `--json`, text
 * otherwise; sets the documented exit code. Never throws.
 */
export async function execute(opts: GlobalOptions, body: () => Promise<CommandResult>): Promise<void> {
  // Hints raised from here on name the command to run, not the app's button (main/errors.ts `actionHint`).
  setHintHost('cli');
  await whileBusy(() => run(opts, body));
}

async function run(opts: GlobalOptions, body: () => Promise<CommandResult>): Promise<void> {
  try {
    const result = await body();
    if (opts.json) process.stdout.write(`${JSON.stringify({ ok: true, ...result.json }, null, 2)}\n`);
    else if (result.human) process.stdout.write(`${result.human}\n`);
    process.exitCode = result.exit ?? EXIT.ok;
  } catch (err) {
    const error: ErrorData = toErrorData(err);
    if (opts.json) process.stdout.write(`${JSON.stringify({ ok: false, error }, null, 2)}\n`);
    else process.stderr.write(`${renderError(error)}\n`);
    process.exitCode = exitCodeFor(error.code);
  }
}

/**
 * The settings and the state engine the CLI shares with the app (same data dir, same locks). Loaded on demand: a
 * command that needs no state (`--version`, `--help`) never loads the state engine.
 */
export async function cliRuntime(opts: GlobalOptions): Promise<{ settings: Settings; store: StateStore; dataDir: string }> {
  const [{ confBackend }, { resolveDataDir, Settings }, { StateStore }] = await Promise.all([
    import('../settings/conf-backend'),
    import('../settings/settings'),
    import('../state'),
  ]);
  const dataDir = resolveDataDir(opts.dataDir, process.env);
  const settings = new Settings(confBackend(dataDir));
  const store = new StateStore({
    historyLimit: settings.get('historyLimit'),
    lockTimeoutMs: settings.get('lockTimeoutMs'),
    onWarning: (m) => process.stderr.write(`warning: ${redactText(m)}\n`),
  });
  return { settings, store, dataDir };
}

/** A workspace named on the command line (a folder or a config file), not registered anywhere. */
export interface CliWorkspace {
  readonly kind: WorkspaceKind;
  readonly name: string;
  readonly path: string;
  readonly configFile: string;
  readonly statePath: string;
  readonly target: StateTarget;
  /** `clusterdesk.backend` of the config: the PostgreSQL backend holding the state (bound for this process). */
  readonly backend?: BackendSpec;
}

/**
 * Resolves a WORKSPACE argument. For clusters the state file is `--state PATH`, else `AI_HOW_STATE_FILE`, else
 * `output/state.json` beside the config, as in AI-HOW.
 */
export async function resolveWorkspace(path: string, opts: { state?: string; expect?: WorkspaceKind } = {}): Promise<CliWorkspace> {
  const statePath = opts.state ?? process.env.AI_HOW_STATE_FILE;
  const { detectWorkspace } = await import('../workspaces/detect');
  const found = await detectWorkspace(path, statePath ? { statePath } : {});
  if (opts.expect && found.kind !== opts.expect) {
    throw new AppError('workspace-unknown', `${found.path} is a ${found.kind}, not a ${opts.expect}.`, {
      path: found.path,
      hint: opts.expect === 'cluster' ? 'Use `clusterdesk fed …` for federations.' : 'Use `clusterdesk hpc …` for clusters.',
    });
  }
  // `clusterdesk.backend` in the config: every state call for this workspace goes to that database (state/backends/route.ts).
  const { bindStateBackend } = await import('../state/backends/route');
  bindStateBackend(found.statePath, found.backend ?? null);
  return {
    ...found,
    target: { kind: found.kind, file: found.statePath, ...(found.kind === 'cluster' ? { clusterName: found.name } : {}) },
  };
}

/**
 * Refuses a command the shared action rule (preload/workspace-actions.ts — the window's buttons and the tray use it
 * too) does not allow for the recorded status, with the rule's sentence. No-ops (stop a stopped cluster, clean a clean
 * federation) still run: scripts may repeat a command safely. An unreadable state is left to the command, whose own
 * error names the file and the line.
 */
export async function refuseByRule(
  store: StateStore,
  ws: CliWorkspace,
  action: ClusterAction | FederationAction,
  opts: { readonly force?: boolean } = {},
): Promise<void> {
  const state = await store.load(ws.target).catch(() => undefined);
  if (state === undefined) return;
  const verdict =
    ws.kind === 'cluster'
      ? clusterActions({ status: (state as { status?: ClusterStatus } | null)?.status ?? 'none', busy: false })[action as ClusterAction]
      : federationActions({
          status: (state as { type?: FederationStatus } | null)?.type ?? 'clean',
          busy: false,
          machines: ((state?.data as { machines?: unknown[] } | undefined)?.machines ?? []).length,
          ...(opts.force ? { force: true } : {}),
        })[action as FederationAction];
  if (verdict && !verdict.allowed && !verdict.noop) {
    throw new AppError('state-wrong-status', verdict.reason, {
      path: ws.statePath,
      hint: `Run \`clusterdesk ${ws.kind === 'cluster' ? 'hpc' : 'fed'} status\` to see the recorded state.`,
    });
  }
}
