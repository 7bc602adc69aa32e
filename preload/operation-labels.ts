/** Human names for operations (main names them by their channel): shared by the renderer, the tray and notifications. */
const OPERATION_LABELS: Readonly<Record<string, string>> = {
  'cluster:start': 'Start cluster',
  'cluster:stop': 'Stop cluster',
  'cluster:destroy': 'Destroy cluster',
  'cluster:refresh': 'Refresh',
  'cluster:vm-action': 'VM action',
  'cluster:validate': 'Validate',
  'federation:start': 'Start federation',
  'federation:stop': 'Stop federation',
  'federation:clean': 'Clean federation',
  'federation:probe': 'Probe',
  'state:restore': 'Restore backup',
  'state:import': 'Import state',
  'state:adopt': 'Adopt state',
  'state:unlock': 'Unlock',
};

/** The label of an operation: a known one, else its verb capitalised (`federation:weird-thing` → `Weird thing`). */
export function operationLabel(name: string): string {
  const known = OPERATION_LABELS[name];
  if (known) return known;
  const bare = name.includes(':') ? name.slice(name.indexOf(':') + 1) : name;
  return bare.charAt(0).toUpperCase() + bare.slice(1).replace(/-/g, ' ');
}
