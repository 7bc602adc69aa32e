/**
 * The history folder `<file>.history/`: one file per generation, named by serial (`000042.json`), newest kept.
 * Every generation is written with `writeHistoryFile`: redacted (no secret ever lands in history, whoever wrote
 * the file being archived) and mode 0600.
 */
import { readdir } from 'node:fs/promises';
import { errnoCode, fsError, isNotFound } from './errors';
import { siblingPaths } from './locations';
import { unlinkIfExists, writePrivateCopy } from './atomic-write';

/**
 * Writes one history generation (or an adopted file's original): redacted, mode 0600, replacing any file of that
 * name. Returns the paths of what the redaction removed (never values). Throws raw fs errors.
 */
export async function writeHistoryFile(path: string, content: string | Uint8Array): Promise<string[]> {
  return writePrivateCopy(path, content);
}

export interface HistoryFile {
  readonly name: string;
  readonly serial: number;
  readonly path: string;
}

const NAME = /^(\d{1,16})\.json$/;

/** The history file name of a serial. */
export function historyName(serial: number): string {
  return `${String(serial).padStart(6, '0')}.json`;
}

/** The generations in `<file>.history/`, newest (highest serial) first. */
export async function listHistory(file: string): Promise<HistoryFile[]> {
  const { history } = siblingPaths(file);
  let names: string[];
  try {
    names = await readdir(history);
  } catch (err) {
    if (isNotFound(err) || errnoCode(err) === 'ENOTDIR') return [];
    throw fsError(err, history, 'list the history of');
  }
  const out: HistoryFile[] = [];
  for (const name of names) {
    const m = NAME.exec(name);
    if (m) out.push({ name, serial: Number(m[1]), path: `${history}/${name}` });
  }
  return out.sort((a, b) => b.serial - a.serial);
}

/** Deletes all but the newest `keep` generations. */
export async function trimHistory(file: string, keep: number, entries?: readonly HistoryFile[]): Promise<void> {
  const list = entries ?? (await listHistory(file));
  for (const old of list.slice(Math.max(0, keep))) {
    try {
      await unlinkIfExists(old.path);
    } catch (err) {
      throw fsError(err, old.path, 'trim the history of');
    }
  }
}
