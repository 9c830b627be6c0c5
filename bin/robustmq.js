#!/usr/bin/env node
// Entry point: runs the compiled CLI (built by `npm run build`, which `npm install` runs through `prepare`).
import { main } from '../dist/runtime/cli/main.js';

main(process.argv).catch((err) => {
  process.stderr.write(`robustmq: ${err?.message ?? err}\n`);
  process.exit(1);
});
