/** What every benchmark suite takes and gives back, so `bench/run.ts` can print and save them alike. */
import type { Table } from './table.js';

export interface SuiteOptions {
  /** Measured window of each scenario. */
  readonly durationMs: number;
  /** Traffic before the measured window starts (connections settle, JIT warms). */
  readonly warmupMs: number;
  /** Smaller loads for a smoke run (`--quick`). */
  readonly quick: boolean;
  /** Repetitions of each measurement; tables show the median. */
  readonly rounds: number;
  /** Only these peers/engines (suite-specific names), when given. */
  readonly only?: readonly string[];
  /** MQTT: idle clients for the memory measurement. */
  readonly idleClients?: number;
  /** MQTT: load-generator processes (1 = all clients together, 2 = publishers apart from subscribers). */
  readonly generatorProcesses?: 1 | 2;
  /** Progress lines go to stderr so stdout stays the report. */
  log(message: string): void;
}

export interface SuiteResult {
  readonly suite: string;
  readonly tables: Table[];
  /** Raw figures for the JSON results file. */
  readonly data: Record<string, unknown>;
  /** Scenarios that could not run, with why; a suite with errors still reports what it measured. */
  readonly errors: string[];
}

export interface Suite {
  readonly name: string;
  readonly description: string;
  run(options: SuiteOptions): Promise<SuiteResult>;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
