/**
 * Suites written as their own module (bench/storage-segment.ts) are loaded only if the file exists, and adapted:
 * a `Suite` object export, or a function export (`run`, `runSuite`, `main`, default) taking SuiteOptions.
 * A result with `tables` is printed as tables; anything else is kept as raw data in the results file.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from './proc.js';
import type { Suite, SuiteOptions, SuiteResult } from './suite.js';
import type { Table } from './table.js';

type Runner = (options: SuiteOptions) => unknown;

const FUNCTION_NAMES = ['run', 'runSuite', 'main', 'default'];

/** Finds how to run a module's benchmark among its exports. */
export function findRunner(mod: Record<string, unknown>): Runner | null {
  for (const value of Object.values(mod)) {
    const candidate = value as Partial<Suite> | null;
    if (candidate && typeof candidate === 'object' && typeof candidate.run === 'function') {
      return (options) => (candidate as Suite).run(options);
    }
  }
  for (const name of FUNCTION_NAMES) {
    if (typeof mod[name] === 'function') return mod[name] as Runner;
  }
  return null;
}

function isTable(t: unknown): t is Table {
  const x = t as Table;
  return !!x && typeof x.title === 'string' && Array.isArray(x.columns) && Array.isArray(x.rows);
}

/** Turns whatever a foreign runner returned into a SuiteResult. */
export function normalizeResult(name: string, value: unknown): SuiteResult {
  const v = (value ?? {}) as Partial<SuiteResult>;
  const tables = Array.isArray(v.tables) ? v.tables.filter(isTable) : [];
  const errors = Array.isArray(v.errors) ? v.errors.map(String) : [];
  const data = tables.length > 0 && v.data && typeof v.data === 'object' ? v.data : { result: value ?? null };
  return { suite: name, tables, data: data as Record<string, unknown>, errors };
}

export function externalSuite(name: string, relativeFile: string, description: string): Suite | null {
  const file = path.join(REPO_ROOT, relativeFile);
  if (!existsSync(file)) return null;
  return {
    name,
    description,
    async run(options) {
      const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
      const runner = findRunner(mod);
      if (!runner) {
        return { suite: name, tables: [], data: {}, errors: [`${relativeFile} exports no run function or Suite`] };
      }
      return normalizeResult(name, await runner(options));
    },
  };
}
