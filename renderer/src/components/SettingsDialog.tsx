import { useEffect, useId, useState } from 'react';
import type { AppSettings } from '../../../preload/contract';
import { SETTING_KEYS, SETTINGS_LIMITS } from '../../../preload/settings-limits';
import { currentTheme, setTheme, THEME_CHOICES, type ThemeChoice } from '../lib/theme';
import { loadSettings, saveSettings } from '../stores/actions';
import { Dialog } from './Dialog';

/** The settings a user can change, each with its unit and range (the one table main validates against). */
const FIELDS = SETTING_KEYS.map((key) => ({ key, ...SETTINGS_LIMITS[key] }));

/** Edits the app's settings; they apply to the next operation and are shared with the CLI (same data dir). */
export function SettingsDialog({ onClose }: { readonly onClose: () => void }) {
  const [values, setValues] = useState<Record<string, string> | null>(null);
  const [saving, setSaving] = useState(false);
  const [theme, setThemeChoice] = useState<ThemeChoice>(currentTheme());
  const formId = useId();

  useEffect(() => {
    void loadSettings().then((s) => {
      if (s) setValues(Object.fromEntries(FIELDS.map((f) => [f.key, String(s[f.key])])));
    });
  }, []);

  const invalid = values ? FIELDS.filter((f) => !validNumber(values[f.key] ?? '', f.min, f.max)).map((f) => f.key) : [];

  return (
    <Dialog
      title="Settings"
      onClose={onClose}
      actions={
        <>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form={formId} className="primary" disabled={!values || invalid.length > 0 || saving}>
            Save
          </button>
        </>
      }
    >
      <fieldset className="theme-choice">
        <legend>Theme</legend>
        {THEME_CHOICES.map((t) => (
          <label key={t.value} className="radio">
            <input
              type="radio"
              name="theme"
              value={t.value}
              checked={theme === t.value}
              onChange={() => {
                setThemeChoice(t.value);
                setTheme(t.value);
              }}
            />
            {t.label}
          </label>
        ))}
        <span className="muted small">Applies at once, in this window only. System follows the operating system’s light or dark setting.</span>
      </fieldset>
      {values ? (
        <form
          id={formId}
          className="settings-form"
          onSubmit={async (e) => {
            e.preventDefault();
            if (!values || invalid.length > 0 || saving) return;
            setSaving(true);
            const ok = await saveSettings(Object.fromEntries(FIELDS.map((f) => [f.key, Number(values[f.key])])) as Partial<AppSettings>);
            setSaving(false);
            if (ok) onClose();
          }}
        >
          {FIELDS.map((f) => (
            <div key={f.key} className="settings-field">
              <label htmlFor={`${formId}-${f.key}`}>{f.label}</label>
              <span className="settings-input">
                <input
                  id={`${formId}-${f.key}`}
                  type="number"
                  min={f.min}
                  max={f.max}
                  value={values[f.key] ?? ''}
                  aria-invalid={invalid.includes(f.key)}
                  aria-describedby={`${formId}-${f.key}-range`}
                  onChange={(e) => setValues({ ...values, [f.key]: e.target.value })}
                />
                <span className="settings-unit">{f.unit}</span>
              </span>
              <span id={`${formId}-${f.key}-range`} className={invalid.includes(f.key) ? 'small settings-range invalid' : 'muted small settings-range'}>
                Allowed: {rangeText(f.min, f.max, f.unit)}. {f.hint}
              </span>
            </div>
          ))}
        </form>
      ) : (
        <p className="muted">Loading…</p>
      )}
    </Dialog>
  );
}

/** "0–3,600 s" — the allowed range with its unit, as shown under each field. */
export function rangeText(min: number, max: number, unit: string): string {
  const n = (v: number) => v.toLocaleString('en-US');
  return `${n(min)}–${n(max)} ${unit}`;
}

function validNumber(text: string, min: number, max: number): boolean {
  if (!/^\d+$/.test(text.trim())) return false;
  const n = Number(text);
  return n >= min && n <= max;
}
