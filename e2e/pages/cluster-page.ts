import type { Locator, Page } from '@playwright/test';
import type { AppFixture } from '../../test/support/app';

/** A cluster workspace's view: the lifecycle toolbar, the VM table and the destroy dialog, by their accessible names. */
export class ClusterPage {
  readonly page: Page;

  constructor(app: AppFixture) {
    this.page = app.page;
  }

  private toolbar(): Locator {
    return this.page.getByRole('toolbar', { name: 'Cluster actions' });
  }

  button(name: 'Start' | 'Stop' | 'Destroy' | 'Refresh' | 'Validate'): Locator {
    return this.toolbar().getByRole('button', { name, exact: true });
  }

  createDemo(): Promise<void> {
    return this.page.getByRole('button', { name: 'Create demo cluster' }).first().click();
  }

  vms(): Locator {
    return this.page.getByRole('table', { name: 'Virtual machines' });
  }

  /** The VM rows (the header row excluded: it has column headers, not cells). */
  vmRows(): Locator {
    return this.vms()
      .getByRole('row')
      .filter({ has: this.page.getByRole('cell') });
  }

  row(vm: string): Locator {
    return this.vmRows().filter({ has: this.page.getByRole('cell', { name: vm, exact: true }) });
  }

  /** Destroy through the dialog, typing the cluster name as confirmation. */
  async destroy(clusterName: string): Promise<void> {
    await this.button('Destroy').click();
    const dialog = this.page.getByRole('dialog', { name: `Destroy cluster ${clusterName}?` });
    const confirm = dialog.getByRole('button', { name: 'Destroy cluster' });
    await dialog.getByRole('textbox', { name: `Type ${clusterName} to confirm` }).fill(clusterName);
    await confirm.click();
  }
}
