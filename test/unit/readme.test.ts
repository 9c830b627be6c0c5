import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { flagName, nodeConfigSchema } from '../../runtime/config/schema.js';
import { ROOT } from '../helpers/cli.js';

const readme = readFileSync(`${ROOT}/README.md`, 'utf8');

describe('README stays true to the code', () => {
  it('documents every configuration flag', () => {
    const missing = Object.keys(nodeConfigSchema.shape)
      .map((key) => `--${flagName(key)}`)
      .filter((flag) => !readme.includes(`\`${flag}\``));
    expect(missing).toEqual([]);
  });

  it('shows the quick start and the test command', () => {
    expect(readme).toContain('npm install && npm start');
    expect(readme).toContain('npm test');
  });
});
