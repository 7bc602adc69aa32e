import type { ChangeRow } from '../lib/format';

/** "What changes" as a small table: field, current, new; changed rows are marked. */
export function ChangeTable({ rows, label }: { readonly rows: readonly ChangeRow[]; readonly label: string }) {
  return (
    <table className="change-table" aria-label={label}>
      <thead>
        <tr>
          <th scope="col"></th>
          <th scope="col">Current</th>
          <th scope="col">After</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.label} className={r.changed ? 'changed' : undefined}>
            <th scope="row">{r.label}</th>
            <td>{r.from}</td>
            <td>
              {r.changed ? <span aria-hidden="true">→ </span> : null}
              {r.to}
              {r.changed ? <span className="visually-hidden"> (changes)</span> : null}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
