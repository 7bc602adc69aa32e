import type { z } from 'zod';
import { CHANNELS, type Channel, type InvokeArg, type InvokeResult, type Result } from '../../preload/contract';
import { toErrorData } from '../errors';

/**
 * One channel's handler: the zod schema of its argument and the service call. Both directions are checked against the
 * contract: the schema's parsed type must fit the channel's argument, and (`handle` being a function property, so
 * checked contravariantly) the channel's argument must fit what the schema parses. A schema that drifts from
 * preload/contract.ts is a compile error (main/ipc/table.typecheck.ts proves it).
 */
export interface Handler<C extends Channel> {
  readonly schema: z.ZodType<InvokeArg<C>>;
  readonly handle: (arg: InvokeArg<C>) => Promise<InvokeResult<C>>;
}

/** Every channel of the contract has exactly one handler; a missing one is a compile error. */
export type HandlerTable = { readonly [C in Channel]: Handler<C> };

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** Mutually assignable and with the same keys (assignability alone lets a schema drop an optional field). */
type Agree<A, B> = Same<A, B> extends true ? Same<keyof A, keyof B> : false;

/** For each channel: nothing when its schema parses exactly the contract's argument, else a type naming the channel. */
export type ExactSchemas<T> = {
  readonly [C in keyof T & Channel]: T[C] extends { readonly schema: infer S extends z.ZodType }
    ? Agree<z.output<S>, InvokeArg<C>> extends true
      ? unknown
      : { readonly schema: `the schema of ${C} does not parse exactly the argument preload/contract.ts declares` }
    : never;
};

/** Returns the table unchanged; does not compile when any schema disagrees with the contract (see `ExactSchemas`). */
export function exactSchemas<T extends Partial<HandlerTable>>(table: T & ExactSchemas<T>): T {
  return table;
}

/** Optional observer for logging: never receives argument values (they may hold paths, never secrets, but stay terse). */
export type DispatchLog = (line: { channel: string; ok: boolean; ms: number; code?: string }) => void;

const known = new Set<string>(CHANNELS);

/**
 * Validates and runs one invoke, whichever transport it came from. Never throws: every failure becomes an error
 * value, so a bad message cannot take the host down.
 */
export async function dispatch(table: HandlerTable, channel: unknown, arg: unknown, log?: DispatchLog): Promise<Result<unknown>> {
  const t0 = performance.now();
  const done = (result: Result<unknown>) => {
    log?.({ channel: String(channel), ok: result.ok, ms: performance.now() - t0, ...(result.ok ? {} : { code: result.error.code }) });
    return result;
  };
  if (typeof channel !== 'string' || !known.has(channel)) {
    return done({ ok: false, error: { code: 'invalid-argument', message: `Unknown channel ${JSON.stringify(channel)}.` } });
  }
  const handler = table[channel as Channel] as unknown as Handler<Channel>;
  const parsed = handler.schema.safeParse(arg ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') ?? '';
    return done({
      ok: false,
      error: {
        code: 'invalid-argument',
        message: `Invalid argument for ${channel}${field ? ` at ${field}` : ''}: ${issue?.message ?? 'invalid'}.`,
        ...(field ? { field } : {}),
      },
    });
  }
  try {
    const value = await handler.handle(parsed.data as never);
    return done({ ok: true, value });
  } catch (err) {
    return done({ ok: false, error: toErrorData(err) });
  }
}
