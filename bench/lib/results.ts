/** The JSON results file: one per run, bench/results/<timestamp>.json, with enough context to compare runs. */
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './proc.js';
import type { SuiteResult } from './suite.js';

export const RESULTS_DIR = path.join(REPO_ROOT, 'bench', 'results');

/** 2024-05-01T10:20:30.456Z → 2024-05-01T10-20-30Z (safe as a file name, sorts by time). */
export function timestampName(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z').replaceAll(':', '-');
}

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

export function machineInfo(): Record<string, unknown> {
  return {
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? null,
    memoryBytes: os.totalmem(),
    loadAverage: os.loadavg(),
  };
}

export async function writeResults(
  startedAt: Date,
  options: Record<string, unknown>,
  suites: SuiteResult[],
  dir = RESULTS_DIR,
): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${timestampName(startedAt)}.json`);
  const body = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    commit: gitCommit(),
    machine: machineInfo(),
    loadAverageAtEnd: os.loadavg(),
    options,
    suites,
  };
  await writeFile(file, JSON.stringify(body, null, 2) + '\n');
  return file;
}
