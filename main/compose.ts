import { mkdir } from 'node:fs/promises';
import pkg from '../package.json';
import { AppServices, type ServicesOptions } from './services';

export const APP_VERSION: string = pkg.version;

/**
 * Builds the app's services. The Electron entry, `serve` and the tests call this one function, so they cannot drift
 * apart; every domain is always there (the handler table calls the domain functions directly).
 */
export async function composeServices(opts: Omit<ServicesOptions, 'version'>): Promise<AppServices> {
  await mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
  return new AppServices({ ...opts, version: APP_VERSION });
}
