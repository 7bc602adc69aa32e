/**
 * The archive an upload sends: the remote side runs `tar -x`, so one exec channel carries a whole kit with its file
 * modes (exec bits) and no per-file round trips. The archive is written by node-tar (`tar`): pax headers for long
 * (> 100 bytes) and non-ASCII names, symlinks as links, `portable` (no uid/gid/user names or atimes of this machine;
 * modes kept, except that group/other write bits are dropped).
 *
 * Files are read in chunks of at most `chunkSize` as the consumer pulls, so memory stays bounded whatever the kit size.
 */
import { close, type Dirent } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Pack, type WriteEntry } from 'tar';

export interface TarEntry {
  /** Path relative to the root, `/`-separated. */
  readonly name: string;
  readonly abs: string;
  readonly type: 'file' | 'dir' | 'symlink';
  readonly mode: number;
  readonly size: number;
  readonly mtime: number;
}

/** Lists `root` recursively (parents before children, sorted for reproducible archives). */
export async function listTree(root: string, signal?: AbortSignal): Promise<TarEntry[]> {
  const out: TarEntry[] = [];
  const walk = async (rel: string): Promise<void> => {
    signal?.throwIfAborted();
    const dir = rel === '' ? root : join(root, rel);
    const items: Dirent[] = await readdir(dir, { withFileTypes: true });
    items.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const item of items) {
      const name = rel === '' ? item.name : `${rel}/${item.name}`;
      const abs = join(root, name);
      const st = await lstat(abs);
      const mtime = Math.floor(st.mtimeMs / 1000);
      const mode = st.mode & 0o7777;
      if (st.isDirectory()) {
        out.push({ name, abs, type: 'dir', mode, size: 0, mtime });
        await walk(name);
      } else if (st.isFile()) {
        out.push({ name, abs, type: 'file', mode, size: st.size, mtime });
      } else if (st.isSymbolicLink()) {
        out.push({ name, abs, type: 'symlink', mode, size: 0, mtime });
      }
      // Sockets, FIFOs and devices have no place in a startup kit; they are skipped.
    }
  };
  await walk('');
  return out;
}

export interface TarChunk {
  readonly data: Buffer;
  /** Content bytes of files read since the previous chunk (headers and padding excluded), for progress. */
  readonly contentBytes: number;
  /** Files completed since the previous chunk. */
  readonly filesDone: number;
}

/**
 * Streams a tar archive of `entries` (from `listTree(root)`, in that order) in chunks. Progress counts what has been
 * read from each file into the archive; it reaches the totals of `entries` exactly when the archive ends. Aborting
 * `signal` stops the stream with an AbortError and closes the files being read.
 */
export async function* tarStream(root: string, entries: readonly TarEntry[], signal?: AbortSignal, chunkSize = 256 * 1024): AsyncGenerator<TarChunk> {
  signal?.throwIfAborted();
  const sizes = new Map(entries.map((e) => [e.name, e.type === 'file' ? e.size : -1]));
  const live = new Set<WriteEntry>();
  let doneBytes = 0;
  let doneFiles = 0;
  let reported = 0;
  let reportedFiles = 0;
  let failure: unknown = null;
  const pack = new Pack({
    cwd: root,
    portable: true,
    noDirRecurse: true,
    maxReadSize: chunkSize,
    // A file may not change size while it is read: node-tar fails the entry (its header promised `size` bytes).
    strict: true,
    onWriteEntry: (entry: WriteEntry) => {
      const size = sizes.get(entry.path.replace(/\/$/, '')) ?? -1;
      if (size < 0) return;
      live.add(entry);
      entry.once('end', () => {
        live.delete(entry);
        doneBytes += size;
        doneFiles += 1;
      });
    },
  });
  pack.on('error', (err: unknown) => (failure ??= err));
  pack.on('warn', (_code: string, message: string) => (failure ??= new Error(message)));
  for (const e of entries) pack.add(e.name);
  pack.end();
  const progress = (): { contentBytes: number; filesDone: number } => {
    let bytes = doneBytes;
    for (const e of live) bytes += Math.min(e.stat?.size ?? 0, e.pos ?? 0); // `pos`: bytes read into the entry (+ final padding)
    const out = { contentBytes: bytes - reported, filesDone: doneFiles - reportedFiles };
    reported = bytes;
    reportedFiles = doneFiles;
    return out;
  };
  let finished = false;
  try {
    for await (const data of pack as AsyncIterable<Buffer>) {
      if (failure) throw failure;
      signal?.throwIfAborted();
      yield { data, ...progress() };
    }
    if (failure) throw failure;
    finished = true;
    const rest = progress();
    if (rest.contentBytes > 0 || rest.filesDone > 0) yield { data: Buffer.alloc(0), ...rest };
  } finally {
    if (!finished) {
      // Stopped early (aborted, failed, or the consumer went away): release the files still open for reading.
      for (const e of live) if (typeof e.fd === 'number') close(e.fd, () => undefined);
      pack.destroy();
    }
  }
}
