import { expect, test } from '../test/support/app';

test('settings are edited in a dialog, validated, and kept', async ({ app }) => {
  const page = app.page;
  await page.getByRole('button', { name: 'Settings' }).click();
  const dialog = page.getByRole('dialog', { name: 'Settings' });
  const timeout = dialog.getByRole('spinbutton', { name: 'Cluster stop timeout (seconds)' });
  await expect(timeout).toHaveValue('60');
  await timeout.fill('-3');
  await expect(dialog.getByRole('button', { name: 'Save' })).toBeDisabled();
  await timeout.fill('15');
  await dialog.getByRole('spinbutton', { name: 'State history length' }).fill('30');
  await app.screenshot('settings');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog).toHaveCount(0);

  await page.reload();
  await page.getByRole('button', { name: 'Settings' }).click();
  await expect(page.getByRole('dialog', { name: 'Settings' }).getByRole('spinbutton', { name: 'Cluster stop timeout (seconds)' })).toHaveValue('15');
  await expect(page.getByRole('dialog', { name: 'Settings' }).getByRole('spinbutton', { name: 'State history length' })).toHaveValue('30');
});
