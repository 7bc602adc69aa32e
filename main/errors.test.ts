import { describe, expect, it } from 'vitest';
import { AppError, isAppError, toErrorData } from './errors';

describe('AppError', () => {
  it('keeps code, hint and path when converted to data', () => {
    const err = new AppError('state-corrupt', 'bad file', { path: '/x/state.json', hint: 'restore it' });
    expect(toErrorData(err)).toEqual({ code: 'state-corrupt', message: 'bad file', path: '/x/state.json', hint: 'restore it' });
    expect(isAppError(err, 'state-corrupt')).toBe(true);
    expect(isAppError(err, 'state-stale')).toBe(false);
  });

  it('turns unknown errors into internal errors that keep the message', () => {
    expect(toErrorData(new Error('boom'))).toMatchObject({ code: 'internal', message: 'boom' });
    expect(toErrorData('text')).toMatchObject({ code: 'internal', message: 'text' });
  });
});
