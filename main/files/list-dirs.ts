import { opendir, realpath, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { FolderListing } from '../../preload/contract';
import { AppError } from '../errors';

/** At most this many entries per listing (a folder with more says `truncated`). */
export const LIST_LIMIT = 500;
/** At most this many directory entries are read to find them (a huge folder cannot stall the host). */
const SCAN_LIMIT = 20_000;

/** The folder the picker shows: `CLUSTERDESK_BROWSE_ROOT`, else the host user's home. */
export function browseRoot(env: NodeJS.ProcessEnv): string {
  return env.CLUSTERDESK_BROWSE_ROOT || homedir();
}

function inside(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel) && !rel.startsWith(`..${sep}`));
}

/**
 * Lists the folders (and `.yaml`/`.yml` files, which a cluster workspace may be added from) directly inside `path`
 * (default: the root). Both the folder and every symlinked entry are resolved with `realpath`: anything that leads
 * out of the root is refused (`path-refused`) or left out. Hidden entries are left out. Read-only and bounded.
 */
export async function listFolders(path: string | undefined, root: string = homedir()): Promise<FolderListing> {
  const rootReal = await realpath(root).catch(() => {
    throw new AppError('not-found', `The browse root ${root} does not exist.`, { path: root });
  });
  const wanted = path ? resolve(rootReal, path) : rootReal;
  let real: string;
  try {
    real = await realpath(wanted);
  } catch {
    throw new AppError('not-found', `${wanted} does not exist.`, { path: wanted, hint: 'Go back up and pick another folder.' });
  }
  if (!inside(rootReal, real)) {
    throw new AppError('path-refused', `${wanted} is outside ${rootReal}, the only folder the picker shows.`, {
      path: wanted,
      hint: `Type the path into the field instead, or pick a folder under ${rootReal}.`,
    });
  }
  const info = await stat(real);
  if (!info.isDirectory()) throw new AppError('invalid-argument', `${real} is not a folder.`, { path: real });

  const entries: { name: string; path: string; kind: 'dir' | 'file' }[] = [];
  let truncated = false;
  let scanned = 0;
  let dir;
  try {
    dir = await opendir(real, { bufferSize: 64 });
  } catch (err) {
    throw new AppError('state-io', `${real} cannot be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}.`, { path: real });
  }
  try {
    for await (const d of dir) {
      if (++scanned > SCAN_LIMIT) {
        truncated = true;
        break;
      }
      if (d.name.startsWith('.')) continue;
      const full = join(real, d.name);
      let kind: 'dir' | 'file' | null = null;
      if (d.isDirectory()) kind = 'dir';
      else if (d.isFile()) kind = /\.ya?ml$/i.test(d.name) ? 'file' : null;
      else if (d.isSymbolicLink()) {
        // Followed only when it stays under the root.
        const target = await realpath(full).catch(() => null);
        if (target && inside(rootReal, target)) {
          const t = await stat(target).catch(() => null);
          if (t?.isDirectory()) kind = 'dir';
          else if (t?.isFile() && /\.ya?ml$/i.test(d.name)) kind = 'file';
        }
      }
      if (!kind) continue;
      if (entries.length >= LIST_LIMIT) {
        truncated = true;
        break;
      }
      entries.push({ name: d.name, path: full, kind });
    }
  } finally {
    await dir.close().catch(() => undefined);
  }
  entries.sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'dir' ? -1 : 1));
  return { path: real, parent: real === rootReal ? null : dirname(real), root: rootReal, entries, truncated };
}
