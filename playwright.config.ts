import { defineConfig } from '@playwright/test';

// Every spec runs against the headless host in Debian's Chromium ("chromium"), and again under Playwright's
// `_electron` launcher ("electron") — the latter skips, with the reason printed, where no Electron binary exists.
export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  outputDir: 'test-results',
  // Generous: the suite must stay green on a loaded 2-core machine; waits end as soon as the page is ready.
  timeout: 180_000,
  expect: { timeout: 20_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list'], ['html', { open: 'never', outputFolder: 'playwright-report' }]],
  use: { trace: 'retain-on-failure', screenshot: 'only-on-failure' },
  projects: [
    { name: 'chromium', metadata: { host: 'serve' } },
    { name: 'electron', metadata: { host: 'electron' } },
  ],
});
