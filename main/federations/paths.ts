/**
 * Which remote paths a federation may create and later delete, and where a workspace keeps its trusted host keys.
 *
 * Pure functions: the service checks every recorded `tmp_dir` here (lexically) before it asks the machine for the
 * folder's real path, and checks that answer here too. Nothing is ever removed that fails either check.
 */
import { posix } from 'node:path';
import { join } from 'node:path';

/** Every temp folder we create is named `clusterdesk-<8 hex chars of the state's lineage>-<mktemp suffix>`. */
export const OUR_TMP_PREFIX = 'clusterdesk-';

/**
 * Our pattern. The suffix is mktemp's `XXXXXXXX` on remote machines (8 chars) and Node's `mkdtemp` locally (6 chars),
 * both from `[A-Za-z0-9]`.
 */
export const OUR_TMP_NAME = /^clusterdesk-[0-9a-f]{8}-[A-Za-z0-9]{6,10}$/;

/**
 * ReFedEz's pattern: its start command names each machine's folder `/tmp/<identifier>` with
 * `identifier = str(uuid.uuid4())` (`cli/commands/start.py`) — a lowercase version-4 UUID. Accepted only for machine
 * records adopted from a ReFedEz-written state file, never for records we wrote ourselves.
 */
export const REFEDEZ_TMP_NAME = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Where a record came from: one we wrote (start) or one converted from a ReFedEz-written state file. */
export type RecordOrigin = 'clusterdesk' | 'refedez';

/** The mktemp prefix for a new temp folder of a state with this lineage. */
export function tmpPrefixFor(lineage: string): string {
  const hex = lineage
    .replace(/[^0-9a-f]/gi, '')
    .toLowerCase()
    .slice(0, 8)
    .padEnd(8, '0');
  return `${OUR_TMP_PREFIX}${hex}-`;
}

/** The 8 hex characters of a lineage our temp folder names carry. */
function lineageHex(lineage: string): string {
  return tmpPrefixFor(lineage).slice(OUR_TMP_PREFIX.length, -1);
}

function lexicalRefusal(path: string): string | null {
  if (typeof path !== 'string' || path === '') return 'no temp folder recorded';
  if (/[\0\n\r]/.test(path)) return 'control characters in the path';
  if (!posix.isAbsolute(path)) return 'not an absolute path';
  if (posix.normalize(path) !== path || path.endsWith('/')) return 'not a normalized path (it contains "..", "." or "//")';
  return null;
}

/**
 * Why a recorded temp folder may not be removed, or null when it may. With `lineage` (the state's), a folder named
 * after another lineage (`clusterdesk-<other hex8>-…`) is refused too: it belongs to another deployment.
 */
export function tmpDirRefusal(path: string, tempRoot: string, origin: RecordOrigin, lineage?: string): string | null {
  const lexical = lexicalRefusal(path);
  if (lexical) return lexical;
  if (posix.dirname(path) !== tempRoot) return `not directly under the temp root ${tempRoot}`;
  return nameRefusal(posix.basename(path), origin, lineage);
}

/**
 * Why `stop` may not create `shutdown.fl` in a recorded folder, or null when it may. Stop removes nothing, so clean's
 * name rules do not apply: the folder only has to be a normalized absolute path other than `/` and the temp root
 * (the machine then checks that it exists and is not a symbolic link — see STOP_SCRIPT).
 */
export function stopDirRefusal(path: string, tempRoot: string): string | null {
  if (path === '/') return 'it is the root folder';
  const lexical = lexicalRefusal(path);
  if (lexical) return lexical;
  if (path === tempRoot) return `it is the temp root ${tempRoot} itself`;
  return null;
}

function nameRefusal(name: string, origin: RecordOrigin, lineage?: string): string | null {
  if (OUR_TMP_NAME.test(name)) {
    const hex = name.slice(OUR_TMP_PREFIX.length, OUR_TMP_PREFIX.length + 8);
    if (lineage && hex !== lineageHex(lineage))
      return `the name "${name}" carries another deployment's lineage (${hex}, this state's is ${lineageHex(lineage)})`;
    return null;
  }
  if (origin === 'refedez' && REFEDEZ_TMP_NAME.test(name)) return null;
  return origin === 'refedez'
    ? `the name "${name}" matches neither Clusterdesk's nor ReFedEz's temp folder pattern`
    : `the name "${name}" does not match Clusterdesk's temp folder pattern`;
}

/**
 * Checks what the machine reported for a recorded folder (`realDir` = the folder's real path, `realRoot` = the temp
 * root's real path): the folder must really be a direct child of the temp root and keep the recorded name, so a
 * symlink planted anywhere on the way cannot redirect the removal.
 */
export function realDirRefusal(recorded: string, realDir: string, realRoot: string, origin: RecordOrigin, lineage?: string): string | null {
  if (!posix.isAbsolute(realDir) || posix.normalize(realDir) !== realDir) return `its real path ${JSON.stringify(realDir)} is not a normalized absolute path`;
  if (posix.dirname(realDir) !== realRoot) return `its real path ${realDir} is not directly under the temp root (${realRoot})`;
  if (posix.basename(realDir) !== posix.basename(recorded)) return `its real path ${realDir} differs from the recorded name`;
  return nameRefusal(posix.basename(realDir), origin, lineage);
}

/**
 * The workspace's own known_hosts: `<project folder>/.clusterdesk/known_hosts`, beside refedez.yaml. Kept with the
 * project (not in the app's data dir) so the desktop app and the CLI — which has no registry — trust the same keys,
 * and outside the state folder so `clean` (which removes that folder) does not forget them.
 */
export function workspaceKnownHostsPath(projectFolder: string): string {
  return join(projectFolder, '.clusterdesk', 'known_hosts');
}
