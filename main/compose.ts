import { mkdir } from 'node:fs/promises';
import pkg from '../package.json';
import { FederationFacade } from './federations/api';
import { ClusterFacade } from './clusters/api';
import { AppServices, type ServicesOptions } from './services';
import { SharingFacade } from './sharing/api';

export const APP_VERSION: string = pkg.version;

/**
 * Builds the app's services with every domain attached. The Electron entry, `serve`, the CLI and the tests call this
 * one function, so they cannot drift apart.
 */
export async function composeServices(opts: Omit<ServicesOptions, 'version'>): Promise<AppServices> {
  await mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
  const services = new AppServices({ ...opts, version: APP_VERSION });
  services.clusters = new ClusterFacade(services);
  services.federations = new FederationFacade(services);
  services.sharing = new SharingFacade(services);
  return services;
}
