/** Calling the real handler table from tests, as the window does: `call` answers the value, `refusal` the error. */
import type { Channel, ErrorData, InvokeArg, InvokeResult } from '../../preload/contract';
import { dispatch, type HandlerTable } from '../../main/ipc/dispatch';

export interface TableCaller {
  /** The channel's value; a refusal is thrown as an Error carrying the error data's fields. */
  call<C extends Channel>(channel: C, arg: InvokeArg<C>): Promise<InvokeResult<C>>;
  /** The channel's error; a success fails the test. */
  refusal<C extends Channel>(channel: C, arg: InvokeArg<C>): Promise<ErrorData>;
}

/** A caller for `table()` (a getter, since tests build their table in `beforeAll`/`beforeEach`). */
export function tableCaller(table: () => HandlerTable): TableCaller {
  return {
    async call(channel, arg) {
      const r = await dispatch(table(), channel, arg);
      if (!r.ok) throw Object.assign(new Error(r.error.message), r.error);
      return r.value as InvokeResult<typeof channel>;
    },
    async refusal(channel, arg) {
      const r = await dispatch(table(), channel, arg);
      if (r.ok) throw new Error(`${channel} succeeded`);
      return r.error;
    },
  };
}
