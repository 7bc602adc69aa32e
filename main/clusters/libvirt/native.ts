/**
 * koffi bindings on `libvirt.so.0`: the function table, async calls, and libvirt errors → AppError.
 *
 * Only this file and `host.ts` / `bulk-stats.ts` touch koffi. Handles (virConnectPtr, virDomainPtr, …) are koffi
 * pointers (BigInt); every call that may block on I/O (anything that talks to the daemon) goes through `call()`,
 * which runs it on koffi's worker threads. Sync calls are kept to those that only read client-side memory
 * (`virDomainGetName`, `*Free`, `virConnGetLastError`).
 */
import type * as Koffi from 'koffi';
import { AppError } from '../../errors';

type Fn = ReturnType<Koffi.LibraryHandle['func']>;
type KoffiApi = (typeof Koffi)['default'];
export type Ptr = bigint;

/** The libvirt functions we bind. Prototypes are C declarations parsed by koffi. */
const PROTOTYPES = {
  virConnectOpen: 'void* virConnectOpen(const char* name)',
  virConnectClose: 'int virConnectClose(void* conn)',
  virConnGetLastError: 'void* virConnGetLastError(void* conn)',
  virConnResetLastError: 'void virConnResetLastError(void* conn)',
  virConnectGetAllDomainStats: 'int virConnectGetAllDomainStats(void* conn, unsigned int stats, _Out_ void** retStats, unsigned int flags)',
  virDomainStatsRecordListFree: 'void virDomainStatsRecordListFree(void* stats)',

  virConnectListAllDomains: 'int virConnectListAllDomains(void* conn, _Out_ void** domains, unsigned int flags)',
  virDomainLookupByName: 'void* virDomainLookupByName(void* conn, const char* name)',
  virDomainDefineXML: 'void* virDomainDefineXML(void* conn, const char* xml)',
  virDomainCreate: 'int virDomainCreate(void* dom)',
  virDomainShutdown: 'int virDomainShutdown(void* dom)',
  virDomainDestroy: 'int virDomainDestroy(void* dom)',
  virDomainSuspend: 'int virDomainSuspend(void* dom)',
  virDomainResume: 'int virDomainResume(void* dom)',
  virDomainReboot: 'int virDomainReboot(void* dom, unsigned int flags)',
  virDomainUndefineFlags: 'int virDomainUndefineFlags(void* dom, unsigned int flags)',
  virDomainSetAutostart: 'int virDomainSetAutostart(void* dom, int autostart)',
  virDomainGetXMLDesc: 'char*! virDomainGetXMLDesc(void* dom, unsigned int flags)',
  virDomainGetName: 'const char* virDomainGetName(void* dom)',
  virDomainGetInfo: 'int virDomainGetInfo(void* dom, _Out_ virDomainInfo* info)',
  virDomainInterfaceAddresses: 'int virDomainInterfaceAddresses(void* dom, _Out_ void** ifaces, unsigned int source, unsigned int flags)',
  virDomainInterfaceFree: 'void virDomainInterfaceFree(void* iface)',
  virDomainFree: 'int virDomainFree(void* dom)',

  virConnectListAllNetworks: 'int virConnectListAllNetworks(void* conn, _Out_ void** nets, unsigned int flags)',
  virNetworkLookupByName: 'void* virNetworkLookupByName(void* conn, const char* name)',
  virNetworkDefineXML: 'void* virNetworkDefineXML(void* conn, const char* xml)',
  virNetworkCreate: 'int virNetworkCreate(void* net)',
  virNetworkDestroy: 'int virNetworkDestroy(void* net)',
  virNetworkUndefine: 'int virNetworkUndefine(void* net)',
  virNetworkIsActive: 'int virNetworkIsActive(void* net)',
  virNetworkIsPersistent: 'int virNetworkIsPersistent(void* net)',
  virNetworkGetName: 'const char* virNetworkGetName(void* net)',
  virNetworkGetXMLDesc: 'char*! virNetworkGetXMLDesc(void* net, unsigned int flags)',
  virNetworkUpdate: 'int virNetworkUpdate(void* net, unsigned int command, unsigned int section, int parentIndex, const char* xml, unsigned int flags)',
  virNetworkGetDHCPLeases: 'int virNetworkGetDHCPLeases(void* net, const char* mac, _Out_ void** leases, unsigned int flags)',
  virNetworkDHCPLeaseFree: 'void virNetworkDHCPLeaseFree(void* lease)',
  virNetworkFree: 'int virNetworkFree(void* net)',

  virConnectListAllStoragePools: 'int virConnectListAllStoragePools(void* conn, _Out_ void** pools, unsigned int flags)',
  virStoragePoolLookupByName: 'void* virStoragePoolLookupByName(void* conn, const char* name)',
  virStoragePoolDefineXML: 'void* virStoragePoolDefineXML(void* conn, const char* xml, unsigned int flags)',
  virStoragePoolBuild: 'int virStoragePoolBuild(void* pool, unsigned int flags)',
  virStoragePoolCreate: 'int virStoragePoolCreate(void* pool, unsigned int flags)',
  virStoragePoolRefresh: 'int virStoragePoolRefresh(void* pool, unsigned int flags)',
  virStoragePoolDestroy: 'int virStoragePoolDestroy(void* pool)',
  virStoragePoolDelete: 'int virStoragePoolDelete(void* pool, unsigned int flags)',
  virStoragePoolUndefine: 'int virStoragePoolUndefine(void* pool)',
  virStoragePoolIsActive: 'int virStoragePoolIsActive(void* pool)',
  virStoragePoolGetName: 'const char* virStoragePoolGetName(void* pool)',
  virStoragePoolGetXMLDesc: 'char*! virStoragePoolGetXMLDesc(void* pool, unsigned int flags)',
  virStoragePoolListAllVolumes: 'int virStoragePoolListAllVolumes(void* pool, _Out_ void** vols, unsigned int flags)',
  virStoragePoolFree: 'int virStoragePoolFree(void* pool)',

  virStorageVolLookupByName: 'void* virStorageVolLookupByName(void* pool, const char* name)',
  virStorageVolCreateXML: 'void* virStorageVolCreateXML(void* pool, const char* xml, unsigned int flags)',
  virStorageVolDelete: 'int virStorageVolDelete(void* vol, unsigned int flags)',
  virStorageVolGetName: 'const char* virStorageVolGetName(void* vol)',
  virStorageVolGetPath: 'char*! virStorageVolGetPath(void* vol)',
  virStorageVolGetInfo: 'int virStorageVolGetInfo(void* vol, _Out_ virStorageVolInfo* info)',
  virStorageVolGetXMLDesc: 'char*! virStorageVolGetXMLDesc(void* vol, unsigned int flags)',
  virStorageVolFree: 'int virStorageVolFree(void* vol)',
} as const;

export type FnName = keyof typeof PROTOTYPES;

export interface Native {
  readonly koffi: KoffiApi;
  readonly fn: Readonly<Record<FnName, Fn>>;
  /** libc `memcpy` into a JS buffer: one native call copies a whole struct, far cheaper than koffi.decode per field. */
  readonly memcpy: Fn;
  /** libc `free`, for arrays libvirt allocated and hands over (`virConnectListAll*`). */
  readonly free: Fn;
  readonly types: {
    readonly virError: Koffi.TypeObject;
    readonly virDomainInterface: Koffi.TypeObject;
    readonly virDomainIPAddress: Koffi.TypeObject;
    readonly virNetworkDHCPLease: Koffi.TypeObject;
  };
}

let loaded: Promise<Native> | null = null;

const INSTALL_HINT = 'Install libvirt (Debian/Ubuntu: `apt-get install -y libvirt0` or `libvirt-dev`), then restart Clusterdesk.';

/** Loads koffi and `libvirt.so.0` once per process; `libvirt-unavailable` (with an install hint) when either fails. */
export function loadNative(): Promise<Native> {
  loaded ??= doLoad().catch((err: unknown) => {
    loaded = null;
    throw err;
  });
  return loaded;
}

async function doLoad(): Promise<Native> {
  let koffi: KoffiApi;
  try {
    koffi = (await import('koffi')).default;
  } catch (err) {
    throw new AppError(
      'libvirt-unavailable',
      `The koffi FFI module cannot be loaded: ${(err as Error).message}`,
      { hint: 'Reinstall dependencies (`npm ci`).' },
      { cause: err },
    );
  }
  let lib: Koffi.LibraryHandle;
  try {
    lib = koffi.load('libvirt.so.0');
  } catch (err) {
    throw new AppError('libvirt-unavailable', `libvirt.so.0 cannot be loaded: ${(err as Error).message}`, { hint: INSTALL_HINT }, { cause: err });
  }
  let libc: Koffi.LibraryHandle;
  try {
    libc = koffi.load('libc.so.6');
  } catch {
    libc = koffi.load(null); // the process's own symbols (musl and others export memcpy/free there)
  }
  // Struct layouts from libvirt's public headers (stable ABI).
  koffi.struct('virDomainInfo', { state: 'uint8_t', maxMem: 'unsigned long', memory: 'unsigned long', nrVirtCpu: 'uint16_t', cpuTime: 'uint64_t' });
  koffi.struct('virStorageVolInfo', { type: 'int', capacity: 'uint64_t', allocation: 'uint64_t' });
  const types = {
    // Only the leading fields we read; the struct continues (level, conn, dom, str1…) but we never copy it.
    virError: koffi.struct('virError', { code: 'int', domain: 'int', message: 'const char*' }),
    virDomainIPAddress: koffi.struct('virDomainIPAddress', { type: 'int', addr: 'const char*', prefix: 'unsigned int' }),
    virDomainInterface: koffi.struct('virDomainInterface', { name: 'const char*', hwaddr: 'const char*', naddrs: 'unsigned int', addrs: 'void*' }),
    virNetworkDHCPLease: koffi.struct('virNetworkDHCPLease', {
      iface: 'const char*',
      expirytime: 'int64_t',
      type: 'int',
      mac: 'const char*',
      iaid: 'const char*',
      ipaddr: 'const char*',
      prefix: 'unsigned int',
      hostname: 'const char*',
      clientid: 'const char*',
    }),
  };
  const fn = {} as Record<FnName, Fn>;
  for (const [name, proto] of Object.entries(PROTOTYPES) as [FnName, string][]) {
    try {
      fn[name] = lib.func(proto);
    } catch (err) {
      throw new AppError(
        'libvirt-unavailable',
        `libvirt.so.0 lacks ${name}: ${(err as Error).message}`,
        { hint: 'Clusterdesk needs libvirt 5.x or newer.' },
        { cause: err },
      );
    }
  }
  installErrorHandler(koffi, lib, types.virError);
  return {
    koffi,
    fn,
    // A typed array passed as `void*` is handed over in place (no copy), which is the point.
    memcpy: libc.func('void* memcpy(void* dest, uintptr_t src, size_t n)'),
    free: libc.func('void free(void* ptr)'),
    types,
  };
}

/** The last error libvirt dispatched in this process, with a sequence number to tell whether a call raised one. */
let lastDispatched: { seq: number; error: LibvirtErrorInfo | null } = { seq: 0, error: null };
/** Kept referenced for the life of the process: libvirt holds the function pointer. */
let errorHandler: unknown = null;
let setErrorFunc: Fn | null = null;

/**
 * Replaces libvirt's default error handler, which prints every error (including the expected "not found" of a
 * lookup) to stderr. The handler also records the error, which is the only way to learn why `virConnectOpen` failed:
 * it ran on a worker thread and there is no connection to read the error from. libvirt calls the handler at the exit
 * of the public API with no locks held, so koffi's hop to the main thread cannot deadlock with our sync calls.
 */
function installErrorHandler(koffi: KoffiApi, lib: Koffi.LibraryHandle, virError: Koffi.TypeObject): void {
  const proto = koffi.proto('void virErrorFunc(void* userData, void* error)');
  setErrorFunc = lib.func('void virSetErrorFunc(void* userData, virErrorFunc* handler)');
  errorHandler = koffi.register((_user: unknown, err: Ptr | null) => {
    let error: LibvirtErrorInfo | null = null;
    if (err) {
      const e = koffi.decode(err, virError) as { code: number; domain: number; message: string | null };
      error = { code: e.code, domain: e.domain, message: e.message ?? `libvirt error ${e.code}` };
    }
    lastDispatched = { seq: lastDispatched.seq + 1, error };
  }, koffi.pointer(proto));
  setErrorFunc(null, errorHandler);
}

/** Puts our handler back (after another binding replaced the process-global one). No-op before `loadNative`. */
export function reinstallErrorHandler(): void {
  setErrorFunc?.(null, errorHandler);
}

/** The sequence number of the last dispatched error (compare before/after a call). */
export function dispatchedErrorSeq(): number {
  return lastDispatched.seq;
}

/** The last error libvirt dispatched, if one was dispatched after `sinceSeq`. */
export function dispatchedErrorSince(sinceSeq: number): LibvirtErrorInfo | null {
  return lastDispatched.seq > sinceSeq ? lastDispatched.error : null;
}

/** Runs `fn` on a koffi worker thread. */
export function callAsync<T>(fn: Fn, ...args: unknown[]): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    fn.async(...args, (err: unknown, result: T) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(result)));
  });
}

// libvirt error codes (virterror.h) we treat specially.
export const VIR_ERR = {
  NO_SUPPORT: 3,
  NO_CONNECT: 5,
  INVALID_CONN: 6,
  OPERATION_FAILED: 9,
  DOM_EXIST: 28,
  OPERATION_DENIED: 29,
  OPEN_FAILED: 30,
  NETWORK_EXIST: 37,
  SYSTEM_ERROR: 38,
  RPC: 39,
  NO_DOMAIN: 42,
  NO_NETWORK: 43,
  AUTH_FAILED: 45,
  NO_STORAGE_POOL: 49,
  NO_STORAGE_VOL: 50,
  OPERATION_INVALID: 55,
  AUTH_CANCELLED: 79,
  OPERATION_UNSUPPORTED: 84,
  STORAGE_VOL_EXIST: 90,
} as const;

export const NOT_FOUND_CODES: ReadonlySet<number> = new Set([VIR_ERR.NO_DOMAIN, VIR_ERR.NO_NETWORK, VIR_ERR.NO_STORAGE_POOL, VIR_ERR.NO_STORAGE_VOL]);

export interface LibvirtErrorInfo {
  readonly code: number;
  readonly domain: number;
  readonly message: string;
}

/**
 * The last error recorded on the connection.
 *
 * libvirt keeps errors thread-locally and our calls run on worker threads, so `virGetLastError` on the main thread
 * would see nothing; every public API copies its error into the connection (`virDispatchError`) as well, which is what
 * we read. Two calls failing at the same moment on one connection could swap messages; the codes still classify.
 */
export function lastConnError(native: Native, conn: Ptr): LibvirtErrorInfo | null {
  const ptr = native.fn.virConnGetLastError(conn) as Ptr | null;
  if (!ptr) return null;
  const e = native.koffi.decode(ptr, native.types.virError) as { code: number; domain: number; message: string | null };
  return { code: e.code, domain: e.domain, message: e.message ?? `libvirt error ${e.code}` };
}

/** Maps a libvirt error to a typed AppError: not-found, libvirt-conflict, unsupported, libvirt-conn or libvirt-error. */
export function toAppError(info: LibvirtErrorInfo | null, what: string, uri: string): AppError {
  const message = info?.message ?? 'unknown libvirt error';
  const details = info ? { libvirtCode: info.code, libvirtDomain: info.domain } : {};
  const fields = { host: uri, details };
  switch (info?.code) {
    case VIR_ERR.NO_DOMAIN:
    case VIR_ERR.NO_NETWORK:
    case VIR_ERR.NO_STORAGE_POOL:
    case VIR_ERR.NO_STORAGE_VOL:
      return new AppError('not-found', `${what}: ${message}`, fields);
    case VIR_ERR.DOM_EXIST:
    case VIR_ERR.NETWORK_EXIST:
    case VIR_ERR.STORAGE_VOL_EXIST:
    case VIR_ERR.OPERATION_INVALID:
      return new AppError('libvirt-conflict', `${what}: ${message}`, fields);
    case VIR_ERR.NO_SUPPORT:
    case VIR_ERR.OPERATION_UNSUPPORTED:
      return new AppError('unsupported', `${what}: ${message}`, { ...fields, hint: 'The libvirt driver behind this URI does not implement it.' });
    case VIR_ERR.NO_CONNECT:
    case VIR_ERR.INVALID_CONN:
    case VIR_ERR.RPC:
    case VIR_ERR.AUTH_FAILED:
    case VIR_ERR.AUTH_CANCELLED:
      return new AppError('libvirt-conn', `${what}: lost or refused connection to ${uri}: ${message}`, {
        ...fields,
        hint: 'Check that libvirtd runs and that you may use this URI.',
      });
    default:
      // "already exists with uuid …" comes as a generic OPERATION_FAILED from several drivers.
      if (info?.code === VIR_ERR.OPERATION_FAILED && /already exists/.test(message)) return new AppError('libvirt-conflict', `${what}: ${message}`, fields);
      return new AppError('libvirt-error', `${what}: ${message}`, fields);
  }
}
