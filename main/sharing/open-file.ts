import { readFile, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { BundleOpened, WorkspaceEntry } from '../../preload/contract';
import { isAppError } from '../errors';
import { parseBundle } from './bundle';

/** The `.cdstate` paths among command-line arguments (how Linux and Windows hand over an opened file). */
export function bundlePathsFromArgv(argv: readonly string[]): string[] {
  return argv.filter((a) => !a.startsWith('-') && a.toLowerCase().endsWith('.cdstate')).map((a) => resolve(a));
}

/**
 * Reads a bundle opened from the OS and finds the workspace it belongs to (same kind and name). Never throws: an
 * unreadable or invalid file comes back with `workspaceId: null` and a message for the banner.
 */
export async function openedBundle(path: string, workspaces: readonly WorkspaceEntry[]): Promise<BundleOpened> {
  const fileName = basename(path);
  let content = '';
  try {
    if ((await stat(path)).size > 64 * 1024 * 1024) throw new Error('larger than 64 MiB');
    content = await readFile(path, 'utf8');
  } catch (err) {
    return { fileName, content: '', workspaceId: null, message: `Cannot read ${path}: ${(err as Error).message}.` };
  }
  try {
    const bundle = parseBundle(content);
    const match = workspaces.find((w) => w.kind === bundle.workspace.kind && w.name === bundle.workspace.name);
    if (!match) {
      return {
        fileName,
        content,
        workspaceId: null,
        message: `${fileName} holds the state of ${bundle.workspace.kind} “${bundle.workspace.name}”, which is not in your workspace list. Add its folder first, then import the file from its State tab.`,
      };
    }
    return { fileName, content, workspaceId: match.id, message: `Importing ${fileName} into ${match.name}.` };
  } catch (err) {
    return { fileName, content: '', workspaceId: null, message: isAppError(err) ? `${fileName}: ${err.message}` : `${fileName} is not a state bundle.` };
  }
}
