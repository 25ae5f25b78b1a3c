/**
 * The rows every benchmark returns and the table `pnpm bench` prints.
 */
import { cpus, loadavg } from 'node:os';

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
  /**
   * How the ratio of value to baseline is printed: `percent` (`82%`, the
   * default: throughput against a baseline's) or `times` (`1.24x`: a cost
   * against the floor it cannot go below).
   */
  ratio?: 'percent' | 'times';
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

function ratioText(row: BenchRow): string {
  if (!row.baseline || row.baseline.value === 0) return '';
  const ratio = row.value / row.baseline.value;
  return row.ratio === 'times' ? `${ratio.toFixed(2)}x` : `${(ratio * 100).toFixed(0)}%`;
}

/** The load average line printed above the table: the machine may be shared, and every figure depends on it. */
export function loadAverageText(): string {
  const [one, five, fifteen] = loadavg().map((l) => l.toFixed(2));
  return `load average ${one} ${five} ${fifteen} (1/5/15 min) on ${cpus().length} cores`;
}

/** Renders rows as a plain-text table with ratios to their baselines, under a header line with the load average. */
export function formatTable(rows: BenchRow[]): string {
  const header = ['measure', 'value', 'baseline', 'ratio', 'target', 'met'];
  const body = rows.map((r) => [
    r.name,
    `${fmt(r.value)} ${r.unit}`,
    r.baseline ? `${fmt(r.baseline.value)} ${r.unit} (${r.baseline.name})` : '',
    ratioText(r),
    r.target ?? '',
    r.met === undefined ? '' : r.met ? 'yes' : 'NO',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [loadAverageText(), line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
