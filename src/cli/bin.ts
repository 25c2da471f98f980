#!/usr/bin/env node
import { main } from './main.js';

// The `mcc` executable: everything lives in main() so tests can call it in-process.
main(process.argv.slice(2), process.env).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`mcc: ${String(e)}\n`);
    process.exitCode = 1;
  },
);
