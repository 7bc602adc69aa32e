import type { Locator, Page } from '@playwright/test';
import type { AppFixture } from '../../test/support/app';

/** The workspace list and the add form, as a user sees them. */
export class WorkspacesPage {
  constructor(
    private readonly app: AppFixture,
    readonly page: Page = app.page,
  ) {}

  /** Adds a folder or file: the path field in a browser; in Electron (native dialog) through the same API call. */
  async add(path: string): Promise<void> {
    if (this.app.host === 'serve') {
      await this.page.getByRole('textbox', { name: 'Workspace path' }).fill(path);
      await this.page.getByRole('button', { name: 'Add', exact: true }).click();
      return;
    }
    await this.page.evaluate(async (p) => {
      const api = (globalThis as unknown as { clusterdesk: { invoke(c: string, a: unknown): Promise<unknown> } }).clusterdesk;
      await api.invoke('workspaces:add', { path: p });
    }, path);
    await this.page.reload();
  }

  item(name: string): Locator {
    return this.page
      .getByRole('list', { name: 'Workspace list' })
      .getByRole('listitem')
      .filter({ has: this.page.getByRole('button', { name, exact: true }) });
  }

  select(name: string): Promise<void> {
    return this.page.getByRole('list', { name: 'Workspace list' }).getByRole('button', { name, exact: true }).click();
  }

  alerts(): Locator {
    return this.page.getByRole('alert');
  }
}
