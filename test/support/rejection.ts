import { AppError } from '../../main/errors';

/** Awaits a promise that must reject with an AppError and returns that error (tests then assert its fields). */
export async function rejection(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}
