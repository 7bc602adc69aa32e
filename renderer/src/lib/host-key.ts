/** Reading the host-key details that `ssh-hostkey-unknown` / `ssh-hostkey-changed` errors carry. */
import type { ErrorData } from '../../../preload/contract';

export interface HostKeyInfo {
  readonly host: string;
  readonly port: number;
  readonly fingerprint: string;
}

/** The host, port and fingerprint from an error's details (falling back to `error.host`), or null when incomplete. */
export function hostKeyInfo(error: ErrorData): HostKeyInfo | null {
  const d = error.details ?? {};
  const host = typeof d['host'] === 'string' ? d['host'] : error.host;
  const port = typeof d['port'] === 'number' ? d['port'] : typeof d['port'] === 'string' ? Number(d['port']) : 22;
  const fingerprint = typeof d['fingerprint'] === 'string' ? d['fingerprint'] : null;
  if (!host || !fingerprint || !Number.isInteger(port) || port <= 0 || port > 65535) return null;
  return { host, port, fingerprint };
}
