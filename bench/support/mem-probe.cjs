/**
 * Preloaded into `serve` by bench/serve-memory.bench.ts (`node --expose-gc -r …/mem-probe.cjs serve.js`): answers a
 * `{probe:'mem', gc}` message on the IPC channel with process.memoryUsage() (after a full GC when asked) and, with
 * `{probe:'heap', file}`, writes a heap snapshot. Bench-only; never loaded by the app.
 */
'use strict';
const v8 = require('node:v8');
if (typeof process.send === 'function') {
  process.on('message', (msg) => {
    if (!msg || typeof msg !== 'object') return;
    try {
      if (msg.probe === 'mem') {
        if (msg.gc && typeof global.gc === 'function') {
          global.gc();
          global.gc();
        }
        process.send({ probe: 'mem', id: msg.id, usage: process.memoryUsage(), heap: v8.getHeapStatistics() });
      } else if (msg.probe === 'heap') {
        if (typeof global.gc === 'function') global.gc();
        process.send({ probe: 'heap', id: msg.id, file: v8.writeHeapSnapshot(msg.file) });
      }
    } catch (err) {
      process.send({ probe: msg.probe, id: msg.id, error: String(err) });
    }
  });
  // The IPC channel must not keep serve alive on its own.
  process.channel && process.channel.unref();
}
