/**
 * Adoption by workspace kind: the one entry point the CLI (`clusterdesk state adopt`) and the app
 * (`state:adopt-preview` / `state:adopt`) share. Clusters adopt AI-HOW implementation-format files (evidence read on
 * libvirt), federations adopt ReFedEz-written files. See docs/state.md, "Adopting a state written by ReFedEz or AI-HOW".
 */
import type { AdoptionPreview } from '../../preload/contract';
import { adoptCluster, previewClusterAdoption } from '../clusters/adopt';
import type { ClusterEnv } from '../clusters/env';
import type { ClusterWorkspace } from '../clusters/workspace';
import { adoptFederation, previewFederationAdoption } from '../federations/adopt';
import type { FederationEnv, FederationWorkspace } from '../federations/env';
import type { OpContext } from '../operations/types';
import type { AnyState } from '../state';

/** The workspace to adopt, with the environment its kind needs. */
export type AdoptTarget =
  | { readonly kind: 'cluster'; readonly env: ClusterEnv; readonly ws: ClusterWorkspace }
  | { readonly kind: 'federation'; readonly env: FederationEnv; readonly ws: FederationWorkspace };

/** What adopting would take over (read-only). */
export function previewAdoption(t: AdoptTarget): Promise<AdoptionPreview> {
  return t.kind === 'cluster' ? previewClusterAdoption(t.env, t.ws) : previewFederationAdoption(t.env, t.ws);
}

/** Adopts; answers the preview it acted on and the state written. */
export function adoptState(t: AdoptTarget, ctx: OpContext): Promise<{ preview: AdoptionPreview; state: AnyState & { serial: number; lineage: string } }> {
  return (t.kind === 'cluster' ? adoptCluster(t.env, t.ws, ctx) : adoptFederation(t.env, t.ws, ctx)) as Promise<{
    preview: AdoptionPreview;
    state: AnyState & { serial: number; lineage: string };
  }>;
}
