#!/usr/bin/env node
/**
 * The `cognito-jwt` executable (the package's `bin`): inspect, verify, keys and mint.
 *
 * ```sh
 * pbpaste | npx cognito-jwt inspect
 * ```
 */
import { runCli } from './run.ts';

// A reader that goes away (`cognito-jwt inspect | head -1`) is not an error of ours.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

process.exitCode = await runCli(process.argv.slice(2));
