/**
 * The machines layer's public face: build a Machine for a participant (local or SSH) from resolved settings.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { LocalMachine } from './local-machine';
import { SshMachine } from './ssh-machine';
import type { ResolvedSsh } from './ssh-settings';
import type { Machine } from './types';

export type { CallOptions, ExecResult, LaunchOptions, Machine, MachineKind, UploadOptions, UploadProgress, UploadStats } from './types';
export { shellQuote } from './shell-quote';
export { resolveSsh, type ResolvedSsh, type SshTargetInput, type SshResolveOptions } from './ssh-settings';
export { appendKnownHost, fingerprint, knownHostsName } from './known-hosts';
export { SshMachine, type SshMachineOptions } from './ssh-machine';
export { DEFAULT_CONNECT_TIMEOUT_MS, type HostKeyPolicy } from './ssh-connection';
export { LocalMachine } from './local-machine';

/** Where a participant runs. */
export type MachineTarget = { readonly kind: 'local' } | { readonly kind: 'remote'; readonly ssh: ResolvedSsh };

/** Per-operation environment for building machines (nothing here is persisted). */
export interface MachineEnvironment {
  /** Home folder for the default known_hosts (default os.homedir()). */
  readonly homeDir?: string;
  /** Replaces the default known_hosts files (~/.ssh/known_hosts or UserKnownHostsFile, and /etc/ssh/ssh_known_hosts). */
  readonly knownHostsFiles?: readonly string[];
  /** The workspace's known_hosts: consulted too, and where trusted keys are recorded. */
  readonly workspaceKnownHosts?: string;
  readonly acceptNewHostKeys?: boolean;
  /** Trust an unknown host presenting exactly this fingerprint (the "trust this key" button). */
  readonly trustFingerprint?: string;
  readonly connectTimeoutMs?: number;
  /** In memory for this operation only. */
  readonly password?: string;
  readonly agentSocket?: string | null;
  readonly tempRoot?: string;
}

/** The known_hosts files OpenSSH would read for this target. */
export function defaultKnownHostsFiles(ssh: ResolvedSsh, homeDir = homedir()): string[] {
  const user = ssh.userKnownHostsFiles.length > 0 ? [...ssh.userKnownHostsFiles] : [join(homeDir, '.ssh', 'known_hosts')];
  return [...user, '/etc/ssh/ssh_known_hosts'];
}

/** Builds the Machine for a target. Connections open lazily; call `close()` when the operation ends. */
export function createMachine(target: MachineTarget, env: MachineEnvironment = {}): Machine {
  if (target.kind === 'local') return new LocalMachine(env.tempRoot ? { tempRoot: env.tempRoot } : {});
  return new SshMachine({
    target: target.ssh,
    hostKeys: {
      knownHostsFiles: env.knownHostsFiles ?? defaultKnownHostsFiles(target.ssh, env.homeDir),
      ...(env.workspaceKnownHosts ? { workspaceKnownHosts: env.workspaceKnownHosts } : {}),
      ...(env.acceptNewHostKeys ? { acceptNew: true } : {}),
      ...(env.trustFingerprint ? { trustFingerprint: env.trustFingerprint } : {}),
    },
    ...(env.password !== undefined ? { password: env.password } : {}),
    ...(env.agentSocket !== undefined ? { agentSocket: env.agentSocket } : {}),
    ...(env.connectTimeoutMs !== undefined ? { connectTimeoutMs: env.connectTimeoutMs } : {}),
    ...(env.tempRoot ? { tempRoot: env.tempRoot } : {}),
  });
}
