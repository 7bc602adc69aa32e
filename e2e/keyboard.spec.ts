import type { Locator, Page } from '@playwright/test';
import { expect, test } from '../test/support/app';
import { stopDemoLeftovers } from '../test/support/demo-leftovers';
import { FederationPage } from './pages/federation-page';
import { WorkspacesPage } from './pages/workspaces-page';

/** Operations on a loaded shared machine: a liveness bound, not a timing. */
const OP = { timeout: 90_000 };

/**
 * Presses Tab (or Shift+Tab) until `target` has the focus — the way a keyboard user gets there — and checks the focus
 * is visible (a :focus-visible outline). Fails if the target is never reached: then it is not keyboard-reachable.
 */
async function tabTo(page: Page, target: Locator, opts: { back?: boolean; max?: number } = {}): Promise<void> {
  await expect(target).toBeEnabled(OP);
  for (let i = 0; i < (opts.max ?? 120); i++) {
    if (await target.evaluate((el) => el === el.ownerDocument.activeElement).catch(() => false)) {
      const outline = await target.evaluate((el) => {
        const cs = el.ownerDocument.defaultView!.getComputedStyle(el);
        return { style: cs.outlineStyle, width: parseFloat(cs.outlineWidth), visible: el.matches(':focus-visible') };
      });
      expect(outline.visible, 'focus is :focus-visible').toBe(true);
      expect(outline.style, 'a visible focus outline').not.toBe('none');
      expect(outline.width).toBeGreaterThan(0);
      return;
    }
    await page.keyboard.press(opts.back ? 'Shift+Tab' : 'Tab');
  }
  throw new Error(`never reached by the keyboard: ${target.toString()}`);
}

test.describe('keyboard only', () => {
  test.describe.configure({ timeout: 300_000 });
  test.afterEach(async ({ app }) => {
    await stopDemoLeftovers(app.dataDir);
  });

  test('the demo federation: create, select, start, stop, clean with its confirmation; Escape closes dialogs and focus returns', async ({ app }) => {
    const page = app.page;
    const fed = new FederationPage(app);
    const ws = new WorkspacesPage(app);
    await expect(page.getByRole('heading', { name: 'No workspaces yet' })).toBeVisible();

    await tabTo(page, page.getByRole('button', { name: 'Create demo federation' }).first());
    await page.keyboard.press('Enter');
    const item = ws.item('federation-1');
    await expect(item).toContainText('clean', OP);
    await tabTo(page, page.getByRole('list', { name: 'Workspace list' }).getByRole('button', { name: 'federation-1', exact: true }));
    await page.keyboard.press('Enter');

    await tabTo(page, fed.button('Start'));
    await page.keyboard.press('Enter');
    await expect(item).toContainText('running', OP);
    await app.screenshot('keyboard-federation-running');

    await tabTo(page, fed.button('Stop'));
    await page.keyboard.press('Enter');
    await expect(item).toContainText('dirty', OP);

    // Clean opens its confirmation; Escape closes it and gives the focus back to Clean.
    const clean = fed.button('Clean');
    await tabTo(page, clean);
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Clean federation federation-1?' });
    await expect(dialog).toBeVisible();
    await expect(dialog.getByRole('button', { name: 'Cancel' })).toBeFocused();
    await page.keyboard.press('Escape');
    await expect(dialog).toBeHidden();
    await expect(clean).toBeFocused();

    // Again, and this time confirm from the keyboard.
    await page.keyboard.press('Enter');
    await expect(dialog).toBeVisible();
    await tabTo(page, dialog.getByRole('button', { name: 'Clean', exact: true }));
    await app.screenshot('keyboard-clean-confirm');
    await page.keyboard.press('Enter');
    await expect(item).toContainText('clean', OP);
    await expect(fed.machines()).toHaveCount(0);

    // Settings: Escape closes, focus returns to the Settings button.
    const settings = page.getByRole('button', { name: 'Settings' });
    await tabTo(page, settings, { back: true });
    await page.keyboard.press('Enter');
    const settingsDialog = page.getByRole('dialog', { name: 'Settings' });
    await expect(settingsDialog).toBeVisible();
    await page.keyboard.press('Escape');
    await expect(settingsDialog).toBeHidden();
    await expect(settings).toBeFocused();
  });

  test('a typed confirmation submits with Enter (destroy of the demo cluster), Escape cancels it', async ({ app }) => {
    const page = app.page;
    const ws = new WorkspacesPage(app);
    await page.getByRole('button', { name: 'Create demo cluster' }).first().click();
    await ws.select('demo-1');
    const toolbar = page.getByRole('toolbar', { name: 'Cluster actions' });
    await tabTo(page, toolbar.getByRole('button', { name: 'Start', exact: true }));
    await page.keyboard.press('Enter');
    await expect(ws.item('demo-1')).toContainText('running', OP);

    const destroy = toolbar.getByRole('button', { name: 'Destroy', exact: true });
    await tabTo(page, destroy);
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Destroy cluster demo-1?' });
    const field = dialog.getByRole('textbox', { name: 'Type demo-1 to confirm' });
    await expect(field).toBeFocused();
    await page.keyboard.type('demo-');
    await page.keyboard.press('Enter');
    await expect(dialog).toBeVisible(); // not yet the name: Enter does nothing
    await page.keyboard.press('Escape');
    await expect(dialog).toBeHidden();
    await expect(destroy).toBeFocused();

    await page.keyboard.press('Enter');
    await expect(field).toBeFocused();
    await page.keyboard.type('demo-1');
    await page.keyboard.press('Enter');
    await expect(dialog).toBeHidden();
    await expect(ws.item('demo-1')).toContainText('none', OP);
  });
});
