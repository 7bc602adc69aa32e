/**
 * Preloaded into `serve` by bench/serve-memory.bench.ts (`node --expose-gc -r …/mem-probe.cjs serve.js`): answers a
 * `{probe:'mem', gc}` message on the IPC channel with process.memoryUsage() (after a full GC when asked) and, with
 * `{probe:'heap', file}`, writes a heap snapshot. Bench-only; never loaded by the app.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS preload (`node -r`): require is its only import */
'use strict';
const v8 = require('node:v8');

/** glibc's view of native memory: in use vs free-but-kept by malloc (all arenas), and malloc_trim. Null off glibc. */
let libc = null;
try {
  const koffi = require('koffi');
  const lib = koffi.load('libc.so.6');
  koffi.struct('cd_mallinfo2', {
    arena: 'size_t',
    ordblks: 'size_t',
    smblks: 'size_t',
    hblks: 'size_t',
    hblkhd: 'size_t',
    usmblks: 'size_t',
    fsmblks: 'size_t',
    uordblks: 'size_t',
    fordblks: 'size_t',
    keepcost: 'size_t',
  });
  libc = { mallinfo2: lib.func('cd_mallinfo2 mallinfo2()'), trim: lib.func('int malloc_trim(size_t pad)') };
} catch {
  libc = null;
}
function malloc() {
  if (!libc) return null;
  const m = libc.mallinfo2();
  // uordblks: bytes in use in the heaps; hblkhd: bytes in use in mmapped chunks; fordblks: free bytes malloc keeps.
  return { inUse: Number(m.uordblks) + Number(m.hblkhd), free: Number(m.fordblks), arena: Number(m.arena) };
}
if (typeof process.send === 'function') {
  process.on('message', (msg) => {
    if (!msg || typeof msg !== 'object') return;
    try {
      if (msg.probe === 'mem') {
        if (msg.gc && typeof global.gc === 'function') {
          global.gc();
          global.gc();
        }
        process.send({ probe: 'mem', id: msg.id, usage: process.memoryUsage(), malloc: malloc() });
      } else if (msg.probe === 'trim') {
        process.send({ probe: 'trim', id: msg.id, trimmed: libc ? libc.trim(0) : null });
      } else if (msg.probe === 'heap') {
        if (typeof global.gc === 'function') global.gc();
        process.send({ probe: 'heap', id: msg.id, file: v8.writeHeapSnapshot(msg.file) });
      }
    } catch (err) {
      process.send({ probe: msg.probe, id: msg.id, error: String(err) });
    }
  });
  // The IPC channel must not keep serve alive on its own.
  if (process.channel) process.channel.unref();
}
