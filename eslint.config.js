// Lint: typescript-eslint's recommended rules, React hooks rules for the renderer, and the layering rules — the
// renderer stays away from Node and Electron (it talks to main only through the contract's API), and main/ keeps the
// layers docs/architecture.md describes: state at the bottom, the domains beside each other, the app layer on top,
// Electron glue reached only from the Electron entry.
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

/** `no-restricted-imports` replaces (not merges) per matching block, so every main/ block repeats the common paths. */
const mainPaths = [{ name: 'electron', importNames: ['ipcRenderer'], message: 'Only preload/index.ts touches ipcRenderer.' }];
const noAppGlue = {
  group: ['**/app/*', '**/app/**'],
  message: 'main/app is Electron glue: only the Electron entry (main/entry/electron.ts) imports it. Share logic through preload/ or the services.',
};
const noAppLayer = {
  group: ['**/services', '**/compose', '**/ipc/*', '**/workspaces/*', '**/serve/*', '**/cli/*', '**/entry/*'],
  message: 'Domains and the state engine are plain functions: the app layer (services, ipc, workspaces, serve, cli) calls them, not the other way round.',
};
const restrict = (...patterns) => ({ 'no-restricted-imports': ['error', { paths: mainPaths, patterns }] });

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'test-results/**', 'playwright-report/**', 'bin/**', '.tmp/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': ['error', { selector: "CallExpression[callee.property.name='only']", message: 'No focused tests.' }],
    },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
    },
  },
  {
    files: ['e2e/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: mainPaths }] },
  },
  // main/: the app layer (services, ipc, workspaces, operations, serve, cli, entries) may use every layer below it,
  // but not the Electron glue.
  { files: ['main/**/*.ts'], rules: restrict(noAppGlue) },
  { files: ['main/app/**/*.ts', 'main/entry/electron.ts'], rules: { 'no-restricted-imports': ['error', { paths: mainPaths }] } },
  // The state engine is the bottom layer: besides Node it imports only the error type and the contract's types.
  {
    files: ['main/state/**/*.ts'],
    ignores: ['main/state/**/*.test.ts'],
    rules: restrict({
      group: ['**/clusters/*', '**/federations/*', '**/sharing/*', '**/settings/*', '**/operations/*', ...noAppLayer.group, ...noAppGlue.group],
      message: 'main/state imports nothing above it (Node, ../errors and the contract only): domains and the app build on it.',
    }),
  },
  // The domains sit beside each other on top of the state engine: neither imports the other, nor the app layer.
  {
    files: ['main/clusters/**/*.ts'],
    ignores: ['main/clusters/**/*.test.ts'],
    rules: restrict(noAppGlue, noAppLayer, {
      group: ['**/federations/*', '**/federations/**'],
      message: 'Domains do not import each other: share through main/state or preload/.',
    }),
  },
  {
    files: ['main/federations/**/*.ts'],
    ignores: ['main/federations/**/*.test.ts'],
    rules: restrict(noAppGlue, noAppLayer, {
      group: ['**/clusters/*', '**/clusters/**'],
      message: 'Domains do not import each other: share through main/state or preload/.',
    }),
  },
  { files: ['main/sharing/**/*.ts'], ignores: ['main/sharing/**/*.test.ts'], rules: restrict(noAppGlue, noAppLayer) },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*', 'fs', 'path', 'child_process', 'os'], message: 'The renderer has no Node; ask main through the API.' },
            { group: ['electron'], message: 'The renderer reaches Electron only through window.clusterdesk (preload).' },
            { group: ['**/main/**'], message: 'The renderer imports only the contract from preload/.' },
          ],
        },
      ],
    },
  },
);
