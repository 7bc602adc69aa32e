import { z } from 'zod';

/** Argument schemas shared by several channels. */
export const empty = z.object({}).strict();
export const workspaceRef = z.object({ workspaceId: z.string().min(1).max(200) }).strict();
export const absOrRelPath = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => !p.includes('\0'), 'path contains a NUL byte');
/** A state bundle's text (`.cdstate`); generous but bounded. */
export const bundleText = z
  .string()
  .min(1)
  .max(64 * 1024 * 1024);
