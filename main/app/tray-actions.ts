import { dispatch, type HandlerTable } from '../ipc/dispatch';

/**
 * A tray click is the `app:tray-click` call `serve` offers too: the handler table checks the item is enabled now and
 * runs the same channel the window's button runs. Failures reach the user as the operation's finished event (and so
 * as a notification); a refusal (the item became disabled meanwhile) is reported through `warn`.
 */
export async function clickTrayItem(table: HandlerTable, itemId: string, warn: (message: string) => void): Promise<void> {
  const r = await dispatch(table, 'app:tray-click', { itemId });
  if (!r.ok && typeof r.error.details?.opId !== 'string') warn(`tray: ${r.error.message}`);
}
