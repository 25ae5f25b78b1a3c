/**
 * The rows every benchmark returns and the table `pnpm bench` prints.
 */

/** One measured figure, optionally beside the baseline it is compared with. */
export interface BenchRow {
  /** What was measured. */
  name: string;
  /** The figure. */
  value: number;
  /** Its unit, such as `MiB/s`, `calls/s` or `ms`. */
  unit: string;
  /** The figure it is compared with, measured in the same run. */
  baseline?: { name: string; value: number };
  /** The target, in words, such as `≥ 80% of baseline`. */
  target?: string;
  /** Whether the target is met, when it can be judged. */
  met?: boolean;
}

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 100) return n.toFixed(0);
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

/** Renders rows as a plain-text table with ratios to their baselines. */
export function formatTable(rows: BenchRow[]): string {
  const header = ['measure', 'value', 'baseline', 'ratio', 'target', 'met'];
  const body = rows.map((r) => [
    r.name,
    `${fmt(r.value)} ${r.unit}`,
    r.baseline ? `${fmt(r.baseline.value)} ${r.unit} (${r.baseline.name})` : '',
    r.baseline && r.baseline.value !== 0 ? `${((r.value / r.baseline.value) * 100).toFixed(0)}%` : '',
    r.target ?? '',
    r.met === undefined ? '' : r.met ? 'yes' : 'NO',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
