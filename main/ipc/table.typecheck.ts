/**
 * Type-level test, checked by `tsc` (never run): the handler table refuses a schema that disagrees with
 * preload/contract.ts. Each `@ts-expect-error` fails the typecheck if the line under it ever compiles — that is, if a
 * schema could drift from the contract again (as `timeoutSec: z.string()` once could).
 */
import { z } from 'zod';
import type { InvokeResult } from '../../preload/contract';
import { exactSchemas, type HandlerTable } from './dispatch';
import { workspaceRef } from './schemas';
import { h } from './table';

type Stop = Pick<HandlerTable, 'cluster:stop'>;
const report = (): Promise<InvokeResult<'cluster:stop'>> => Promise.resolve(null as never);

/** The schema as the table has it: compiles. */
export const agrees = exactSchemas({
  'cluster:stop': h(workspaceRef.extend({ timeoutSec: z.number().int().optional() }), report),
} satisfies Stop);

export const wrongFieldType: Stop = {
  // @ts-expect-error `timeoutSec` parsed as a string, the contract says number.
  'cluster:stop': h(workspaceRef.extend({ timeoutSec: z.string().optional() }), report),
};

export const extraRequiredField: Stop = {
  // @ts-expect-error the schema requires `force`, which the contract's argument does not have.
  'cluster:stop': h(workspaceRef.extend({ timeoutSec: z.number().optional(), force: z.boolean() }), report),
};

export const wrongResult: Stop = {
  // @ts-expect-error the handler answers something other than the contract's result.
  'cluster:stop': h(workspaceRef.extend({ timeoutSec: z.number().optional() }), async () => ({ removed: true })),
};

// Assignability alone would accept a schema that drops an optional field; the exact check does not.
// @ts-expect-error the schema drops `timeoutSec`, which the contract's argument has.
export const missingOptionalField = exactSchemas({ 'cluster:stop': h(workspaceRef, report) } satisfies Stop);
