import type { Locator, Page } from '@playwright/test';
import type { AppFixture } from '../../test/support/app';

/** A federation workspace's view: the lifecycle toolbar and the machines table, by their accessible names. */
export class FederationPage {
  readonly page: Page;

  constructor(app: AppFixture) {
    this.page = app.page;
  }

  private toolbar(): Locator {
    return this.page.getByRole('toolbar', { name: 'Federation actions' });
  }

  button(name: 'Start' | 'Probe' | 'Stop' | 'Clean'): Locator {
    return this.toolbar().getByRole('button', { name, exact: true });
  }

  /** Clean through its confirmation (which lists the machine folders and the state folder that go). */
  async clean(name: string): Promise<void> {
    await this.button('Clean').click();
    const dialog = this.page.getByRole('dialog', { name: `Clean federation ${name}?` });
    await dialog.getByRole('button', { name: 'Clean', exact: true }).click();
  }

  createDemo(): Promise<void> {
    return this.page.getByRole('button', { name: 'Create demo federation' }).first().click();
  }

  machines(): Locator {
    return this.page.getByRole('table', { name: 'Machines' });
  }

  /** The body rows of the machines table (one per recorded machine). */
  machineRows(): Locator {
    return this.machines().locator('tbody').getByRole('row');
  }

  row(machine: string): Locator {
    return this.machineRows().filter({ has: this.page.getByRole('cell', { name: machine, exact: true }) });
  }
}
