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
