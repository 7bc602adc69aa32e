/**
 * Gives freed native memory back to the system after big libvirt work (issue #14 item 6).
 *
 * A test-driver connection parses its whole host file into libvirt's own (malloc'd) objects, and every call returns
 * malloc'd XML; closing the connection frees all of it, but glibc keeps freed memory in its arenas instead of
 * returning it. Measured with a 10,000-VM demo host (`npm run bench -- serve-memory`): after a refresh glibc held
 * ~33 MB in use and ~350 MB free — RSS no object holds, which grew with every operation's peak. `malloc_trim(0)` returns
 * that free memory. It runs on a koffi worker thread (it walks every arena), at most one at a time; a request while one
 * runs schedules one more afterwards. Where there is no glibc (musl), it does nothing.
 */
/** glibc's `malloc_trim` as koffi binds it (only `async` is used: the trim runs on a koffi worker thread). */
interface TrimFn {
  async(pad: number, done: (err: unknown, result: number) => void): void;
}

let trimFn: Promise<TrimFn | null> | null = null;
let running: Promise<void> | null = null;
let again = false;

/** Trims done so far (tests check a close led to one). */
export const nativeTrimCount = { value: 0 };

function loadTrim(): Promise<TrimFn | null> {
  trimFn ??= (async () => {
    try {
      const koffi = (await import('koffi')).default;
      return koffi.load('libc.so.6').func('int malloc_trim(size_t pad)') as TrimFn;
    } catch {
      return null;
    }
  })();
  return trimFn;
}

async function trimOnce(): Promise<void> {
  const fn = await loadTrim();
  if (!fn) return;
  await new Promise<void>((resolve) => {
    fn.async(0, () => resolve());
  });
  nativeTrimCount.value++;
}

/**
 * Asks glibc to return freed native memory (after a libvirt connection that read a big host closed). Never throws;
 * the promise settles when the trim (and one requested meanwhile) is done — callers need not wait for it.
 */
export function releaseFreedNativeMemory(): Promise<void> {
  if (running) {
    again = true;
    return running;
  }
  running = (async () => {
    try {
      do {
        again = false;
        await trimOnce();
      } while (again);
    } catch {
      // Nothing to report: the memory just stays with malloc.
    } finally {
      running = null;
    }
  })();
  return running;
}
