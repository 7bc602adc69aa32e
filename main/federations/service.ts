/**
 * The federation lifecycle over SSH (docs/architecture.md, Federations): start, stop, clean — clean → running → dirty → clean.
 *
 * Each function takes the environment, an explicit workspace and an `OpContext`, holds the state lock for its whole
 * run, and records every change as it happens (a machine right after it launched, the dirty state after stop, each
 * removed folder before the state folder goes). Per-machine failures are outcomes, not exceptions, except where
 * noted: nothing runs → start fails; a host-key decision is needed → start and clean fail before changing anything;
 * a recorded folder fails the path checks → clean fails before deleting anything.
 *
 * One file per verb, like main/clusters/: start.ts, stop.ts, clean.ts, inspect.ts (probe, logs, trust a host key);
 * common.ts holds what they share. This module is only their composition, for the handler table, the CLI and tests.
 */
export { START_RESULTS, STOP_RESULTS, CLEAN_RESULTS, KIT_LOG, SHUTDOWN_FILE, type StartResult, type StopResult, type CleanResult } from './common';
export { startFederation } from './start';
export { stopFederation } from './stop';
export { cleanFederation } from './clean';
export { probeFederation, federationLogs, trustHostKey } from './inspect';
