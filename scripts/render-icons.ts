/**
 * Renders the SVG sources in assets/ to the PNG sizes electron-builder and the tray need, with Debian's Chromium.
 * Run after editing an SVG: `npx tsx scripts/render-icons.ts`. The PNGs are committed.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const assets = join(import.meta.dirname, '..', 'assets');
const jobs: { svg: string; out: string; size: number }[] = [
  { svg: 'icon.svg', out: 'icon.png', size: 512 },
  { svg: 'icon.svg', out: 'icon-256.png', size: 256 },
  { svg: 'icon.svg', out: 'icon-64.png', size: 64 },
  { svg: 'cdstate.svg', out: 'cdstate.png', size: 256 },
  ...['idle', 'busy', 'error', 'drift'].flatMap((s) => [
    { svg: `tray-${s}.svg`, out: `tray-${s}.png`, size: 16 },
    { svg: `tray-${s}.svg`, out: `tray-${s}@2x.png`, size: 32 },
  ]),
];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
try {
  const page = await browser.newPage();
  for (const job of jobs) {
    const svg = await readFile(join(assets, job.svg), 'utf8');
    await page.setViewportSize({ width: job.size, height: job.size });
    const dataUrl = `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`;
    await page.setContent(`<html><body style="margin:0;background:transparent"><img src="${dataUrl}" width="${job.size}" height="${job.size}"></body></html>`);
    await page.locator('img').screenshot({ path: join(assets, job.out), omitBackground: true });
    process.stdout.write(`${job.out} (${job.size}px)\n`);
  }
} finally {
  await browser.close();
}
