import { describe, expect, it } from 'vitest';
import { parseTheme, resolveTheme } from './theme';

describe('theme', () => {
  it('an unknown stored value means system', () => {
    expect(parseTheme(null)).toBe('system');
    expect(parseTheme('purple')).toBe('system');
    expect(parseTheme('dark')).toBe('dark');
  });
  it('system follows the OS; an explicit choice ignores it', () => {
    expect(resolveTheme('system', true)).toBe('dark');
    expect(resolveTheme('system', false)).toBe('light');
    expect(resolveTheme('light', true)).toBe('light');
    expect(resolveTheme('dark', false)).toBe('dark');
  });
});
