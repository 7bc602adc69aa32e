/**
 * Light / dark / system theme. The choice is a viewing preference of this window (kept in its localStorage, so two
 * browsers on one `serve` host may differ); `system` follows `prefers-color-scheme` live. The resolved theme is set as
 * `data-theme` on <html>, which styles.css keys its colour variables on.
 */
export type ThemeChoice = 'system' | 'light' | 'dark';
export type ResolvedTheme = 'light' | 'dark';

export const THEME_CHOICES: readonly { readonly value: ThemeChoice; readonly label: string }[] = [
  { value: 'system', label: 'System' },
  { value: 'light', label: 'Light' },
  { value: 'dark', label: 'Dark' },
];

const KEY = 'clusterdesk.theme';

export function parseTheme(value: unknown): ThemeChoice {
  return value === 'light' || value === 'dark' || value === 'system' ? value : 'system';
}

export function resolveTheme(choice: ThemeChoice, systemDark: boolean): ResolvedTheme {
  return choice === 'system' ? (systemDark ? 'dark' : 'light') : choice;
}

function storage(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

export function loadTheme(): ThemeChoice {
  return parseTheme(storage()?.getItem(KEY));
}

let current: ThemeChoice = 'system';
let stopWatching: (() => void) | null = null;
const listeners = new Set<(choice: ThemeChoice) => void>();

function apply(choice: ThemeChoice): void {
  const media = globalThis.matchMedia?.('(prefers-color-scheme: dark)');
  document.documentElement.dataset.theme = resolveTheme(choice, media?.matches ?? false);
  document.documentElement.dataset.themeChoice = choice;
}

/** Applies (and remembers) a theme choice; with `system`, follows the OS setting until another choice is made. */
export function setTheme(choice: ThemeChoice, persist = true): void {
  current = choice;
  if (persist) storage()?.setItem(KEY, choice);
  stopWatching?.();
  stopWatching = null;
  apply(choice);
  const media = globalThis.matchMedia?.('(prefers-color-scheme: dark)');
  if (choice === 'system' && media) {
    const onChange = () => apply('system');
    media.addEventListener('change', onChange);
    stopWatching = () => media.removeEventListener('change', onChange);
  }
  for (const l of listeners) l(choice);
}

export function currentTheme(): ThemeChoice {
  return current;
}

export function onThemeChange(listener: (choice: ThemeChoice) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Called once before the first render, so the page never flashes the other theme. */
export function initTheme(): void {
  setTheme(loadTheme(), false);
}
