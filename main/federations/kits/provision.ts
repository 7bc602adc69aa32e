/**
 * Startup kits for a federation: one folder per participant, uploaded as-is to its machine.
 *
 * Sources, in order: an explicitly configured kits folder (`refedez.kits` — the user said which kits to deploy);
 * else `nvflare provision` when the CLI is on PATH (kits from the newest `prod_NN`); else `provision-failed` telling
 * the user to do one or the other. A kits folder may hold the participant folders directly, or be a FLARE
 * workspace (`[<project>/]prod_NN/<participant>`).
 */
import { spawn } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, mkdir, readdir, stat } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { AppError, cancelledError } from '../../errors';
import type { FederationConfig } from '../config/federation-config';

export interface KitSet {
  readonly source: 'folder' | 'nvflare';
  /** The folder the kits were taken from (a `prod_NN` for nvflare). */
  readonly root: string;
  /** Participant name → absolute kit folder, for every machine of the config. */
  readonly kits: ReadonlyMap<string, string>;
  /** nvflare's output (tail), for the operation log. */
  readonly log?: string;
}

export interface PrepareKitsOptions {
  readonly signal?: AbortSignal;
  /** The nvflare executable; default: looked up on PATH. null: never provision. */
  readonly nvflare?: string | null;
  /** PATH used for the lookup (default process.env.PATH). */
  readonly path?: string;
  /** Bound for `nvflare provision` (default 5 minutes). */
  readonly timeoutMs?: number;
}

/** The first executable `name` on PATH, or null. */
export async function findOnPath(name: string, pathVar = process.env.PATH ?? ''): Promise<string | null> {
  for (const dir of pathVar.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      await access(candidate, fsConstants.X_OK);
      if ((await stat(candidate)).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** Provisions or locates the kits for every machine of `config` (see the module comment for the order). */
export async function prepareKits(config: FederationConfig, opts: PrepareKitsOptions = {}): Promise<KitSet> {
  if (config.kitsFolder !== null) {
    const root = await locateKitRoot(config.kitsFolder, config);
    return { source: 'folder', root, kits: await collectKits(root, config) };
  }
  const nvflare = opts.nvflare === undefined ? await findOnPath('nvflare', opts.path) : opts.nvflare;
  if (nvflare === null) {
    throw new AppError('provision-failed', 'No startup kits: nvflare is not installed and refedez.yaml names no kits folder.', {
      path: config.configPath,
      field: 'refedez.kits',
      hint: 'Install NVIDIA FLARE (pip install nvflare) or add "kits: PATH" under "refedez" pointing at provisioned kits.',
    });
  }
  const workspace = join(config.stateFolder, 'workspace');
  await mkdir(workspace, { recursive: true, mode: 0o700 });
  const log = await runProvision(nvflare, ['provision', '-p', config.projectFile, '-w', workspace], config.baseDir, opts);
  const root = await newestProd(config.projectName ? join(workspace, config.projectName) : workspace);
  if (root === null) {
    throw new AppError('provision-failed', `nvflare provision produced no prod_NN folder under ${workspace}.`, {
      path: workspace,
      hint: 'Check the nvflare output in the details.',
      details: { output: log },
    });
  }
  return { source: 'nvflare', root, kits: await collectKits(root, config), log };
}

/** The newest `prod_NN` under `dir` (highest NN), searching one project level down when needed. */
export async function newestProd(dir: string): Promise<string | null> {
  const pick = async (d: string): Promise<string | null> => {
    let names: string[];
    try {
      names = await readdir(d);
    } catch {
      return null;
    }
    const prods = names
      .map((n) => /^prod_(\d+)$/.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .sort((a, b) => Number(b[1]) - Number(a[1]));
    return prods[0] ? join(d, prods[0][0]) : null;
  };
  const direct = await pick(dir);
  if (direct) return direct;
  // A workspace without the project name given: <workspace>/<project>/prod_NN.
  let subdirs: string[] = [];
  try {
    subdirs = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return null;
  }
  for (const s of subdirs.sort()) {
    const found = await pick(join(dir, s));
    if (found) return found;
  }
  return null;
}

async function isDir(p: string): Promise<boolean> {
  return stat(p).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** A kits folder holding participant folders directly, or a FLARE workspace whose newest prod_NN holds them. */
async function locateKitRoot(folder: string, config: FederationConfig): Promise<string> {
  if (!(await isDir(folder))) {
    throw new AppError('provision-failed', `The kits folder ${folder} does not exist.`, {
      path: config.configPath,
      field: 'refedez.kits',
      hint: 'Point "kits" at a folder with one provisioned kit per participant.',
    });
  }
  const first = config.machines[0];
  if (first && (await isDir(join(folder, first.name)))) return folder;
  const prod = await newestProd(config.projectName && (await isDir(join(folder, config.projectName))) ? join(folder, config.projectName) : folder);
  return prod ?? folder;
}

async function collectKits(root: string, config: FederationConfig): Promise<Map<string, string>> {
  const kits = new Map<string, string>();
  for (const m of config.machines) {
    const kit = join(root, m.name);
    const start = join(kit, 'startup', 'start.sh');
    try {
      await access(start, fsConstants.R_OK);
    } catch {
      throw new AppError('provision-failed', `No startup kit for ${m.name}: ${start} is missing.`, {
        path: kit,
        hint: 'Provision again, or check that the kits folder matches the participants of project.yml.',
      });
    }
    kits.set(m.name, kit);
  }
  return kits;
}

/** Runs nvflare (no shell), bounded and cancellable; returns the output tail, throws provision-failed on failure. */
function runProvision(exe: string, args: readonly string[], cwd: string, opts: PrepareKitsOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(cancelledError());
    // FLARE's provision asks interactive questions on some versions when stdin is a terminal; give it none.
    const child = spawn(exe, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const keep = (d: Buffer) => {
      out = (out + d.toString('utf8')).slice(-16_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let ended: 'cancelled' | 'timeout' | null = null;
    const kill = (why: 'cancelled' | 'timeout') => {
      ended = why;
      child.kill('SIGKILL');
    };
    const onAbort = () => kill('cancelled');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => kill('timeout'), opts.timeoutMs ?? 300_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      reject(new AppError('provision-failed', `Could not run ${exe}: ${err.message}`, { hint: 'Check the NVIDIA FLARE installation.' }));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (ended === 'cancelled') return reject(cancelledError());
      if (ended === 'timeout') return reject(new AppError('provision-failed', 'nvflare provision did not finish in time.', { details: { output: out } }));
      if (code !== 0) {
        const last = out.trim().split('\n').at(-1) ?? '';
        return reject(
          new AppError('provision-failed', `nvflare provision failed (exit ${code})${last ? `: ${last}` : ''}`, {
            hint: 'See the nvflare output in the details; project.yml may be invalid for this FLARE version.',
            details: { output: out },
          }),
        );
      }
      resolve(out);
    });
  });
}
