import type { Locator, Page } from '@playwright/test';
import type { AppFixture } from '../../test/support/app';

/** The home screen (cards), the main navigation, the task list and the toasts, by their accessible names. */
export class DashboardPage {
  readonly page: Page;

  constructor(app: AppFixture) {
    this.page = app.page;
  }

  goHome(): Promise<void> {
    return this.page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Dashboard', exact: true }).click();
  }

  cards(): Locator {
    return this.page.getByRole('list', { name: 'Workspace cards' });
  }

  card(name: string): Locator {
    return this.cards()
      .getByRole('listitem')
      .filter({ has: this.page.getByRole('heading', { name, exact: true }) });
  }

  action(workspace: string, label: string): Locator {
    return this.card(workspace)
      .getByRole('toolbar', { name: `${workspace} actions` })
      .getByRole('button', { name: label, exact: true });
  }

  /** The labels of the card's actions the rule allows now (the others are aria-disabled, with a tooltip). */
  async enabledActions(workspace: string): Promise<string[]> {
    return this.card(workspace)
      .getByRole('toolbar', { name: `${workspace} actions` })
      .getByRole('button')
      .evaluateAll((buttons) =>
        buttons.filter((b) => b.getAttribute('aria-disabled') !== 'true' && !b.getAttribute('aria-label')?.startsWith('Open ')).map((b) => b.textContent ?? ''),
      );
  }

  tasksToggle(): Locator {
    return this.page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: /^Tasks/ });
  }

  taskList(): Locator {
    return this.page.getByRole('complementary', { name: 'Tasks' });
  }

  task(label: string, workspace: string): Locator {
    return this.taskList().getByRole('listitem', { name: `${label} on ${workspace}` });
  }

  toasts(): Locator {
    return this.page.getByRole('region', { name: 'Notifications' });
  }
}
