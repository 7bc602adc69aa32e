/**
 * A small streaming tar (ustar + pax long names) writer for uploads: the remote side runs `tar -x`, so one exec
 * channel carries a whole kit with its file modes (exec bits) and no per-file round trips.
 *
 * Files are read in chunks as the consumer pulls, so memory stays bounded whatever the kit size.
 */
import type { Dirent } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';

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

const BLOCK = 512;

function writeOctal(buf: Buffer, offset: number, length: number, value: number): void {
  // length-1 octal digits, then NUL.
  buf.write(value.toString(8).padStart(length - 1, '0'), offset, length - 1, 'ascii');
  buf[offset + length - 1] = 0;
}

function header(name: string, type: string, mode: number, size: number, mtime: number, linkname = ''): Buffer {
  const buf = Buffer.alloc(BLOCK);
  buf.write(name, 0, 100, 'utf8');
  writeOctal(buf, 100, 8, mode);
  writeOctal(buf, 108, 8, 0); // uid
  writeOctal(buf, 116, 8, 0); // gid
  writeOctal(buf, 124, 12, size);
  writeOctal(buf, 136, 12, mtime);
  buf.fill(0x20, 148, 156); // checksum field counts as spaces while summing
  buf.write(type, 156, 1, 'ascii');
  buf.write(linkname, 157, 100, 'utf8');
  buf.write('ustar\u000000', 257, 8, 'ascii');
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += buf[i]!;
  buf.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'ascii');
  return buf;
}

/** A pax record `"<len> key=value\n"` where len counts the whole record including itself. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

function padding(size: number): Buffer {
  const rem = size % BLOCK;
  return rem === 0 ? Buffer.alloc(0) : Buffer.alloc(BLOCK - rem);
}

/** The header block(s) for one entry: a pax header first when a name does not fit ustar's 100 bytes. */
function headersFor(e: TarEntry, linkname: string): Buffer[] {
  const name = e.type === 'dir' ? `${e.name}/` : e.name;
  const out: Buffer[] = [];
  const needsPax = Buffer.byteLength(name) > 99 || Buffer.byteLength(linkname) > 99 || /[^\x20-\x7e]/.test(name + linkname);
  if (needsPax) {
    const records = paxRecord('path', name) + (linkname ? paxRecord('linkpath', linkname) : '');
    const data = Buffer.from(records, 'utf8');
    out.push(header('PaxHeader', 'x', 0o644, data.length, e.mtime), data, padding(data.length));
  }
  const shortName = Buffer.from(name, 'utf8').subarray(0, 99).toString('latin1');
  const type = e.type === 'dir' ? '5' : e.type === 'symlink' ? '2' : '0';
  out.push(header(needsPax ? shortName.replace(/[^\x20-\x7e]/g, '_') : name, type, e.mode, e.type === 'file' ? e.size : 0, e.mtime, needsPax ? '' : linkname));
  return out;
}

export interface TarChunk {
  readonly data: Buffer;
  /** Content bytes of files in this chunk (headers and padding excluded), for progress. */
  readonly contentBytes: number;
  /** True on the chunk that completes a file. */
  readonly fileDone: boolean;
}

/** Streams a tar archive of `entries` in chunks of at most `chunkSize` content bytes. */
export async function* tarStream(entries: readonly TarEntry[], signal?: AbortSignal, chunkSize = 256 * 1024): AsyncGenerator<TarChunk> {
  for (const e of entries) {
    signal?.throwIfAborted();
    const linkname = e.type === 'symlink' ? await readlink(e.abs) : '';
    const heads = headersFor(e, linkname);
    if (e.type !== 'file') {
      yield { data: Buffer.concat(heads), contentBytes: 0, fileDone: false };
      continue;
    }
    if (e.size === 0) {
      yield { data: Buffer.concat(heads), contentBytes: 0, fileDone: true };
      continue;
    }
    // The header travels in the same buffer as the file's first chunk, and the padding in its last: one write (one
    // SSH packet run) per small file instead of three, and a single allocation per chunk.
    const fh = await open(e.abs, 'r');
    try {
      let sent = 0;
      let head: Buffer | null = Buffer.concat(heads);
      while (sent < e.size) {
        signal?.throwIfAborted();
        const want = Math.min(chunkSize, e.size - sent);
        const last = sent + want === e.size;
        const pre = head?.length ?? 0;
        const pad = last ? padding(e.size).length : 0;
        const buf = Buffer.allocUnsafe(pre + want + pad);
        if (head) head.copy(buf, 0);
        for (let got = 0; got < want;) {
          const { bytesRead } = await fh.read(buf, pre + got, want - got, sent + got);
          // The header promised `size` bytes: a file that shrank meanwhile would corrupt the archive.
          if (bytesRead === 0) throw new Error(`${e.abs} changed size while it was being uploaded`);
          got += bytesRead;
        }
        if (pad > 0) buf.fill(0, pre + want);
        sent += want;
        head = null;
        yield { data: buf, contentBytes: want, fileDone: last };
      }
    } finally {
      await fh.close();
    }
  }
  // Two zero blocks end the archive.
  yield { data: Buffer.alloc(BLOCK * 2), contentBytes: 0, fileDone: false };
}
