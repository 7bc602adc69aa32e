/**
 * The environment cluster operations run in: the state store, libvirt connections, timeouts and fan-out width.
 * The app builds one (`AppServices.clusterEnv`), the CLI builds one per command; both dispose it at the end.
 */
import type { StateStore } from '../state';
import { openLibvirtHost } from './libvirt/host';
import { testHostFile } from './libvirt/test-host';
import type { LibvirtHost } from './libvirt/types';

export interface ClusterEnv {
  readonly store: StateStore;
  /** A handle on the connection for `uri` (one connection per URI per process); close the handle when done. */
  connect(uri: string): Promise<LibvirtHost>;
  /** Graceful shutdown timeout of stop, before VMs are forced off. */
  readonly stopTimeoutSec: number;
  /** VMs handled at once by start and destroy. */
  readonly parallelism: number;
  /** How often stop re-reads the domain states while waiting for shutdowns. */
  readonly pollIntervalMs: number;
  /** The environment to read `LIBVIRT_DEFAULT_URI` from. */
  readonly processEnv: Readonly<Record<string, string | undefined>>;
  /**
   * Use interface addresses the test driver reports. It synthesizes them (from the network's DHCP range and the
   * domain id, new on every start), so by default a demo shows the configured IPs, unverified; tests turn this on
   * to exercise the interface-address path through real libvirt calls.
   */
  readonly testDriverAddresses: boolean;
  /** Closes the pooled connections. */
  dispose(): Promise<void>;
}

export interface ClusterEnvOptions {
  readonly store: StateStore;
  readonly stopTimeoutSec?: number;
  readonly parallelism?: number;
  readonly pollIntervalMs?: number;
  readonly processEnv?: Readonly<Record<string, string | undefined>>;
  readonly testDriverAddresses?: boolean;
  /** Opens a host handle (default: the koffi adapter). */
  readonly open?: (uri: string) => Promise<LibvirtHost>;
}

/**
 * Builds an environment. Connections to real hosts stay open until `dispose` (a keep-alive handle per URI), so a
 * refresh does not pay a TLS/SSH handshake each time. Test-driver host files are not kept: their connection is the
 * host's in-memory copy, and a fresh open after each operation re-reads what another process (the CLI) saved.
 */
export function createClusterEnv(opts: ClusterEnvOptions): ClusterEnv {
  const open = opts.open ?? openLibvirtHost;
  const kept = new Map<string, Promise<LibvirtHost>>();
  let disposed = false;
  return {
    store: opts.store,
    stopTimeoutSec: opts.stopTimeoutSec ?? 60,
    parallelism: Math.max(1, Math.floor(opts.parallelism ?? 8)),
    pollIntervalMs: Math.max(10, opts.pollIntervalMs ?? 250),
    processEnv: opts.processEnv ?? process.env,
    testDriverAddresses: opts.testDriverAddresses ?? false,
    async connect(uri: string): Promise<LibvirtHost> {
      const handle = await open(uri);
      if (!disposed && testHostFile(uri) === null && !kept.has(uri)) {
        const keep = open(uri);
        kept.set(uri, keep);
        keep.catch(() => kept.delete(uri));
      }
      return handle;
    },
    async dispose(): Promise<void> {
      disposed = true;
      const all = [...kept.values()];
      kept.clear();
      await Promise.all(
        all.map((p) =>
          p.then(
            (h) => h.close(),
            () => undefined,
          ),
        ),
      );
    },
  };
}
