/**
 * A registry entry as each domain wants it: the plain workspace objects the domain functions take (the CLI builds the
 * same objects from its arguments). Nothing here reads a file.
 */
import type { WorkspaceEntry } from '../../preload/contract';
import type { ClusterWorkspace } from '../clusters/workspace';
import { AppError } from '../errors';
import type { FederationWorkspace } from '../federations/env';
import type { ShareTarget } from '../sharing/service';
import { configFileOf } from './registry';
import { targetOf } from './snapshot';

/** The cluster workspace a registry entry describes. */
export function clusterWorkspaceOf(entry: WorkspaceEntry): ClusterWorkspace {
  if (entry.kind !== 'cluster') throw new AppError('invalid-argument', `${entry.name} is a ${entry.kind} workspace, not a cluster.`, { path: entry.path });
  return {
    configFile: entry.path,
    statePath: entry.statePath,
    ...(entry.lineage ? { lineage: entry.lineage } : {}),
    ...(entry.libvirtUri ? { libvirtUri: entry.libvirtUri } : {}),
  };
}

/** The federation workspace a registry entry describes. */
export function federationWorkspaceOf(entry: WorkspaceEntry): FederationWorkspace {
  if (entry.kind !== 'federation') {
    throw new AppError('invalid-argument', `${entry.name} is a ${entry.kind}, not a federation.`, { path: entry.path });
  }
  return {
    folder: entry.path,
    configFile: configFileOf(entry),
    statePath: entry.statePath,
    ...(entry.lineage ? { lineage: entry.lineage } : {}),
  };
}

/** What export / import need to know about a workspace. */
export function shareTargetOf(entry: WorkspaceEntry): ShareTarget {
  return { kind: entry.kind, name: entry.name, target: targetOf(entry) };
}
