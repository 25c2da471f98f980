#!/usr/bin/env node
import { main } from './main.js';

// The `mcc` executable: everything lives in main() so tests can call it in-process.

// A reader that closed early (`mcc list | head`) is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}
main(process.argv.slice(2), process.env).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`mcc: ${String(e)}\n`);
    process.exitCode = 1;
  },
);
