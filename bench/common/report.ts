/** Log lines, figures and tables as the benchmarks print them. */
import { cpus, loadavg } from 'node:os';

/** `[bench:<name>] <line>` on stdout. */
export function logger(name: string): (line: string) => void {
  return (line) => console.log(`[bench:${name}] ${line}`);
}

export function mib(bytes: number | undefined): string {
  return bytes === undefined ? '-' : `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}

export function sum(xs: Array<number | undefined>): number {
  return xs.reduce<number>((a, b) => a + (b ?? 0), 0);
}

export function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  const mid = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? (v[mid] as number) : ((v[mid - 1] as number) + (v[mid] as number)) / 2;
}

/** `Node v20..., N cores, load average a b c`: the first line of every report. */
export function machineLine(): string {
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  return `Node ${process.version}, ${cpus().length} cores, load average ${load}`;
}

/** A Markdown table, columns padded to their widest cell; the first row is the header. */
export function printTable(rows: string[][]): void {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  const line = (r: string[]) => `| ${r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join(' | ')} |`;
  console.log(line(rows[0] ?? []));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows.slice(1)) console.log(line(r));
}
