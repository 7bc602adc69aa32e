import { useEffect, useState } from 'react';
import type { AppSettings } from '../../../preload/contract';
import { SETTING_KEYS, SETTINGS_LIMITS } from '../../../preload/settings-limits';
import { loadSettings, saveSettings } from '../stores/actions';
import { Dialog } from './Dialog';

/** The settings a user can change, each with its unit and range (the one table main validates against). */
const FIELDS = SETTING_KEYS.map((key) => ({ key, ...SETTINGS_LIMITS[key] }));

/** Edits the app's settings; they apply to the next operation and are shared with the CLI (same data dir). */
export function SettingsDialog({ onClose }: { readonly onClose: () => void }) {
  const [values, setValues] = useState<Record<string, string> | null>(null);
  const [saving, setSaving] = useState(false);

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
          <button
            type="button"
            className="primary"
            disabled={!values || invalid.length > 0 || saving}
            onClick={async () => {
              if (!values) return;
              setSaving(true);
              const ok = await saveSettings(Object.fromEntries(FIELDS.map((f) => [f.key, Number(values[f.key])])) as Partial<AppSettings>);
              setSaving(false);
              if (ok) onClose();
            }}
          >
            Save
          </button>
        </>
      }
    >
      {values ? (
        <div className="settings-form">
          {FIELDS.map((f) => (
            <label key={f.key} className="settings-field">
              <span>{f.label}</span>
              <input
                type="number"
                min={f.min}
                max={f.max}
                value={values[f.key] ?? ''}
                aria-invalid={invalid.includes(f.key)}
                onChange={(e) => setValues({ ...values, [f.key]: e.target.value })}
              />
              <span className="muted small">{f.hint}</span>
            </label>
          ))}
        </div>
      ) : (
        <p className="muted">Loading…</p>
      )}
    </Dialog>
  );
}

function validNumber(text: string, min: number, max: number): boolean {
  if (!/^\d+$/.test(text.trim())) return false;
  const n = Number(text);
  return n >= min && n <= max;
}
