import type { ExitCode } from './exit-code.ts';
import type { TokenSource } from './input.ts';
import type { Terminal } from './output.ts';

/** What a command may touch: its output streams, stdin, and the clock. */
export interface CommandContext {
  readonly terminal: Terminal;
  readonly stdin: TokenSource;
  /** Epoch milliseconds. */
  readonly now: () => number;
}

/**
 * One `cognito-jwt` command. `run` returns the exit code for the outcomes it expects and throws a
 * `CognitoJwtError` for the others (the caller prints it and maps it to an exit code).
 *
 * ```ts
 * const hello: Command = {
 *   name: 'hello', summary: 'say hello', help: 'Usage: cognito-jwt hello',
 *   run: async (_args, { terminal }) => { terminal.out.line('hello'); return EXIT.ok; },
 * };
 * ```
 */
export interface Command {
  /** As typed after `cognito-jwt`, e.g. `inspect` or `keys fetch`. */
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** The full `--help` text, with examples. */
  readonly help: string;
  run(args: readonly string[], context: CommandContext): Promise<ExitCode>;
}
