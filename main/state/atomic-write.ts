/**
 * The crash-safe replace of a state file.
 *
 * Order (each step leaves a loadable `<file>`):
 *   1. write `<file>.tmp` (0600) and fsync it — the new content is durable before anything points at it;
 *      (steps 1, 3 and 4 are `replaceFile`, the one atomic writer every other file Clusterdesk replaces goes through);
 *   2. replace `<file>.backup` with a hard link to the current `<file>` (the old inode: no data is written, and
 *      `<file>` itself is untouched, so it is never missing — a rename to .backup would leave a window without one).
 *      When the file being replaced is not one we wrote, or holds a secret, the caller passes its redacted text
 *      instead, and `.backup` is a new 0600 file with that text: never a byte copy of a file that held a secret;
 *   3. rename tmp over `<file>` (atomic on POSIX);
 *   4. fsync the folder so the rename itself survives a power cut;
 *   5. write the new text into `<file>.history/NNNNNN.json` (0600, through the redaction like every history write). Only after the rename, so history never holds a
 *      generation that did not become current (and serials stay contiguous after a crash); a crash right before this
 *      step loses that history entry only — the generation is still `<file>`, and becomes `.backup` on the next write.
 * Why a copy for history but a link for `.backup`: tools that rewrite `state.json` in place (ReFedEz opens it with
 * "w", editors, AI-HOW) write into the *current* inode, so a history entry sharing it would be corrupted together
 * with the file it is meant to restore; nobody writes into a replaced inode, so `.backup` can share it for free.
 * The history copy is not fsynced: after a power cut it may be incomplete, and is then listed as invalid — the
 * guarantee that matters (`<file>` loads) never depends on it. File systems without hard links fall back to copies.
 */
import { closeSync, constants, fsyncSync, openSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { copyFile, link, mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { redactedCopyForHistory } from '../secrets/redact';
import { errnoCode, fsError, isNotFound } from './errors';
import { siblingPaths } from './locations';

/** Creates a folder (and its parents) with mode 0700 for the parts it creates. */
export async function ensureDir(dir: string, forFile: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw fsError(err, forFile, 'create the folder for');
  }
}

/** fsyncs a folder so renames and links in it are durable. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Unlinks a file, ignoring "not found". */
export async function unlinkIfExists(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

/** Hard-links `from` at `to` (replacing `to`); copies when the file system has no hard links. ENOENT if `from` is missing. */
export async function linkOrCopy(from: string, to: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await link(from, to);
      return;
    } catch (err) {
      const code = errnoCode(err);
      // Replace an existing `to` only once we know `from` exists, so a missing source never costs us the old copy.
      if (code === 'EEXIST' && attempt < 3) {
        await unlinkIfExists(to);
        continue;
      }
      if (code === 'EXDEV' || code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'EMLINK') {
        await copyFile(from, to);
        return;
      }
      throw err;
    }
  }
}

/**
 * Writes a private copy (history generation, redacted `.backup`, an adopted file's original): the content always
 * goes through the redaction first (`redactedCopyForHistory`), and the file is created anew with mode 0600 (an
 * existing file is unlinked first, so a hard-linked inode is never written into and an old mode never survives).
 * Returns the paths of what the redaction removed. Throws raw fs errors.
 */
export async function writePrivateCopy(path: string, content: string | Uint8Array): Promise<string[]> {
  const { text, removed } = redactedCopyForHistory(content);
  // Written aside and renamed into place: a process killed mid-write never leaves a torn copy under `path`, and the
  // rename replaces any old file (its inode, its mode) whole. A stray aside file is ignored by the history listing.
  // Not fsynced (see the module comment): the guarantee that matters never depends on a history copy.
  await replaceFile(path, text, { durable: false });
  return removed;
}

export interface ReplaceFileOptions {
  /** Mode of the new file (before the umask); default 0600. */
  readonly mode?: number;
  /** fsync the new content before the rename and the folder after it (default true): the replace survives a power cut. */
  readonly durable?: boolean;
  /**
   * The temporary file, when it must have a known name (the state file's `<file>.tmp`, written under its lock); it is
   * truncated and given `mode` again. Default: a fresh hidden sibling `.<name>.<pid>-<random>.tmp`, created exclusively.
   */
  readonly aside?: string;
  /** Runs after the new content is written (and synced), right before the rename (the state file's `.backup` step). */
  readonly beforeRename?: () => Promise<void>;
  /** Told which step runs, for error messages: 'write', 'before-rename', 'rename', 'sync'. */
  readonly onStep?: (step: ReplaceStep) => void;
}
export type ReplaceStep = 'write' | 'before-rename' | 'rename' | 'sync';

const asideOf = (file: string) => join(dirname(file), `.${basename(file)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);

/**
 * The one atomic file writer: writes `content` to a temporary sibling, fsyncs it (unless `durable: false`), renames it
 * over `file` (atomic on POSIX: readers see the old file or the new one, never a torn one) and fsyncs the folder. On a
 * failure the temporary file is removed and `file` is untouched. Throws raw fs errors (callers make them typed).
 */
export async function replaceFile(file: string, content: string | Uint8Array, opts: ReplaceFileOptions = {}): Promise<void> {
  const mode = opts.mode ?? 0o600;
  const durable = opts.durable ?? true;
  const aside = opts.aside ?? asideOf(file);
  let renamed = false;
  try {
    opts.onStep?.('write');
    const handle = await open(aside, opts.aside ? 'w' : 'wx', mode);
    try {
      // A known-name temp file left by a crash keeps its old mode under "w"; make it ours again.
      if (opts.aside) await handle.chmod(mode);
      await handle.writeFile(content, typeof content === 'string' ? 'utf8' : undefined);
      if (durable) await handle.sync();
    } finally {
      await handle.close();
    }
    if (opts.beforeRename) {
      opts.onStep?.('before-rename');
      await opts.beforeRename();
    }
    opts.onStep?.('rename');
    await rename(aside, file);
    renamed = true;
  } finally {
    if (!renamed) await unlinkIfExists(aside).catch(() => undefined);
  }
  if (durable) {
    opts.onStep?.('sync');
    await syncDir(dirname(file));
  }
}

/**
 * `replaceFile` for the few callers whose interface is synchronous (the settings backend: `conf`'s get/set). Same
 * steps; blocks its caller for one small file, so keep it to small files.
 */
export function replaceFileSync(file: string, content: string | Uint8Array, opts: Pick<ReplaceFileOptions, 'mode' | 'durable'> = {}): void {
  const mode = opts.mode ?? 0o600;
  const durable = opts.durable ?? true;
  const aside = asideOf(file);
  let renamed = false;
  try {
    const fd = openSync(aside, 'wx', mode);
    try {
      writeFileSync(fd, content, typeof content === 'string' ? 'utf8' : undefined);
      if (durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(aside, file);
    renamed = true;
  } finally {
    if (!renamed) {
      try {
        unlinkSync(aside);
      } catch {
        // never created, or already gone
      }
    }
  }
  if (durable) {
    const fd = openSync(dirname(file), constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}

export interface AtomicWriteOptions {
  /** File name inside `<file>.history/` for this generation, or null for no history entry. */
  readonly historyName: string | null;
  /**
   * What `<file>.backup` becomes: `'link'` (default) hard-links the file being replaced (for a file we wrote, which
   * holds no secret); `{ text }` writes that text instead (the redacted content of a foreign or secret-holding file).
   */
  readonly backup?: 'link' | { readonly text: string };
}

/** Writes `text` to `file` crash-safely (see the module comment). Throws `state-permission` / `state-io`. */
export async function atomicWrite(file: string, text: string, opts: AtomicWriteOptions): Promise<void> {
  const dir = dirname(file);
  const { tmp, backup, history } = siblingPaths(file);
  let step = 'write';
  try {
    await ensureDir(dir, file);
    const keep = opts.backup ?? 'link';
    const steps: Record<ReplaceStep, string> = {
      write: 'write the temporary file for',
      'before-rename': 'keep the backup of',
      rename: 'replace',
      sync: 'sync the folder of',
    };
    await replaceFile(file, text, {
      aside: tmp,
      onStep: (s) => (step = steps[s]),
      beforeRename: async () => {
        if (keep === 'link') {
          try {
            await linkOrCopy(file, backup);
          } catch (err) {
            if (!isNotFound(err)) throw err; // first write: nothing to back up
          }
        } else {
          await writePrivateCopy(backup, keep.text);
        }
      },
    });
    if (opts.historyName) {
      step = 'record the history of';
      await ensureDir(history, file);
      await writePrivateCopy(`${history}/${opts.historyName}`, text);
    }
  } catch (err) {
    throw fsError(err, file, step);
  }
}
