/** PASS/FAIL lines as checks finish, the timings, and a closing `image-test: N passed, M failed` line. */

export class Report {
  private readonly results: Array<{ name: string; ok: boolean }> = [];
  private readonly timings: Array<{ name: string; seconds: number; detail?: string }> = [];

  constructor(private readonly planned: readonly string[]) {}

  pass(name: string, detail: string): void {
    this.results.push({ name, ok: true });
    console.log(`PASS ${name}: ${detail}`);
  }

  fail(name: string, detail: string): void {
    this.results.push({ name, ok: false });
    console.log(`FAIL ${name}: ${detail.trimEnd().replace(/\n/g, '\n     ')}`);
  }

  time(name: string, seconds: number, detail?: string): void {
    this.timings.push({ name, seconds, detail });
  }

  get failed(): number {
    return this.results.filter((r) => !r.ok).length;
  }

  /** Planned checks that never ran (an earlier step failed) count as failures. */
  finish(totalSeconds: number): void {
    for (const name of this.planned) {
      if (!this.results.some((r) => r.name === name)) this.fail(name, 'not run (an earlier step failed)');
    }
    console.log('');
    for (const t of [...this.timings, { name: 'total', seconds: totalSeconds, detail: undefined }]) {
      console.log(`time ${t.name}: ${t.seconds.toFixed(1)}s${t.detail ? ` (${t.detail})` : ''}`);
    }
    const passed = this.results.length - this.failed;
    console.log(`image-test: ${passed} passed, ${this.failed} failed`);
  }
}
