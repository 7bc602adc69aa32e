/**
 * The cluster domain functions, for callers without the registry or the runner (the `clusterdesk hpc …` CLI, tests):
 * each takes a `ClusterEnv`, an explicit `ClusterWorkspace` and, for operations, an `OpContext`.
 */
export { createClusterEnv, type ClusterEnv, type ClusterEnvOptions } from './env';
export { loadConfig, validateCluster, type ClusterWorkspace, type LoadedConfig } from './workspace';
export { startCluster, type ClusterOpResult } from './start';
export { stopCluster, type StopOptions } from './stop';
export { destroyCluster, requireConfirmation } from './destroy';
export { clusterStatus, refreshCluster, type ClusterStatusReport, type RefreshOptions, type RefreshResult } from './refresh';
export { vmAction } from './vm-action';
export { createDemoCluster, demoConfigYaml, type DemoCluster } from './demo';
export { allowedActions, deriveStatus, vmStateOf } from './vm-state';
