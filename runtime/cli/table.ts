/** Plain-text tables for CLI output. */
export function formatTable(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : (c ?? '').padEnd(widths[i]))).join('  '))
    .join('\n');
}

/** Writes `json` with --json, else the text. */
export function print(opts: { json?: boolean }, json: unknown, text: () => string): void {
  process.stdout.write(`${opts.json ? JSON.stringify(json, null, 2) : text()}\n`);
}
