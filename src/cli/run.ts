import { readFileSync } from 'node:fs';
import { CognitoJwtError, ConfigError } from '../errors.ts';
import { closestName } from '../options.ts';
import type { Command, CommandContext } from './command.ts';
import { configHttpApiAuthorizerCommand } from './commands/config-http-api-authorizer.ts';
import { doctorCommand } from './commands/doctor.ts';
import { inspectCommand } from './commands/inspect.ts';
import { keysFetchCommand } from './commands/keys-fetch.ts';
import { keysGenerateCommand } from './commands/keys-generate.ts';
import { keysShowCommand } from './commands/keys-show.ts';
import { mintCommand } from './commands/mint.ts';
import { revokeCommand } from './commands/revoke.ts';
import { serveCommand } from './commands/serve.ts';
import { verifyCommand } from './commands/verify.ts';
import { EXIT, type ExitCode, exitCodeFor } from './exit-code.ts';
import { processTerminal, type Terminal } from './output.ts';
import { looksLikeToken, printable, withoutTokens } from './text.ts';

/**
 * Every command, in the order `--help` lists them.
 *
 * ```ts
 * const verify = COMMANDS.find((command) => command.name === 'verify');
 * ```
 */
export const COMMANDS: readonly Command[] = [
  inspectCommand,
  verifyCommand,
  keysFetchCommand,
  keysShowCommand,
  keysGenerateCommand,
  mintCommand,
  serveCommand,
  revokeCommand,
  doctorCommand,
  configHttpApiAuthorizerCommand,
];

function listing(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((command) => command.name.length));
  return commands.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`).join('\n');
}

const HELP = `Usage: cognito-jwt <command> [options]

Inspect, verify and mint Amazon Cognito tokens locally: the safe alternative to pasting
tokens into a website. Run "cognito-jwt <command> --help" for a command's options.

Commands:
${listing(COMMANDS)}

Options:
  -h, --help      show this help (or a command's)
  -v, --version   print the version

Examples:
  pbpaste | cognito-jwt inspect
  cognito-jwt verify - --user-pool-id eu-west-1_AbC123 --client-id 1example23456789 --token-use access < token.txt
  cognito-jwt keys fetch --user-pool-id eu-west-1_AbC123 -o jwks.json

Exit codes: 0 success, 1 invalid token, 2 usage or configuration, 3 keys unavailable.
Colours: off when the output is not a terminal or NO_COLOR is set; FORCE_COLOR=1 forces them.`;

/** The words that group commands: `keys fetch`, `config http-api-authorizer`. */
const GROUPS = ['keys', 'config'];

/** The commands of a group, and the words that follow the group's word. */
function groupOf(group: string): { commands: readonly Command[]; words: string[] } {
  const commands = COMMANDS.filter((command) => command.name.startsWith(`${group} `));
  return { commands, words: commands.map((command) => command.name.slice(group.length + 1)) };
}

/** What `cognito-jwt keys` (or `config`) alone prints: its commands, like the main help. */
function groupHelp(group: string): string {
  const { commands, words } = groupOf(group);
  return `Usage: cognito-jwt ${group} <${words.join('|')}> [options]

Commands:
${listing(commands)}

Run "cognito-jwt ${group} <command> --help" for its options.`;
}

/**
 * The version in the package's package.json: two folders up from `src/cli`, and from `dist/cli` or
 * `dist/chunks`, wherever the bundled build (scripts/build.ts) puts this code.
 *
 * ```ts
 * console.log(packageVersion()); // '0.1.0'
 * ```
 */
export function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  return String(manifest.version);
}

/** Whether an option appears before the `--` that ends options. */
function hasFlag(args: readonly string[], ...flags: string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((arg) => flags.includes(arg));
}

/** The words that may follow `cognito-jwt`, for "did you mean". */
const COMMAND_WORDS = [...new Set(COMMANDS.map((command) => command.name.split(' ')[0]!))];

/** ` did you mean "serve"?` for a typo of a known word, else nothing. */
function didYouMean(word: string, words: readonly string[]): string {
  const near = closestName(word, words);
  return near === undefined ? '' : ` did you mean "${near}"?`;
}

/** An unknown command: a token pasted in its place is neither repeated nor "corrected". */
function unknownCommand(word: string, words: readonly string[], prefix = ''): ConfigError {
  if (looksLikeToken(word)) {
    return new ConfigError(
      `a token is not a command (it is not shown): to read it, run "cognito-jwt inspect -" and paste it on stdin (see: cognito-jwt --help)`,
    );
  }
  const what = prefix === '' ? 'command' : `${prefix} command`;
  return new ConfigError(
    `unknown ${what} ${JSON.stringify(word)};${didYouMean(word, words)} ${prefix === '' ? 'commands' : 'use'}: ${words.join(', ')} (see: cognito-jwt ${prefix === '' ? '' : `${prefix} `}--help)`,
  );
}

function findCommand(args: readonly string[]): { command: Command | undefined; rest: readonly string[] } {
  const [first, ...rest] = args;
  if (first !== undefined && GROUPS.includes(first)) {
    const [sub, ...subRest] = rest;
    return { command: COMMANDS.find((command) => command.name === `${first} ${sub}`), rest: subRest };
  }
  return { command: COMMANDS.find((command) => command.name === first), rest };
}

/**
 * Run the command line: dispatch to a command, print help and version, and turn failures into
 * one line on stderr (`error CODE: message`) and an exit code. Never throws.
 *
 * ```ts
 * process.exitCode = await runCli(process.argv.slice(2));
 * ```
 */
export async function runCli(
  argv: readonly string[],
  context: CommandContext = { terminal: processTerminal(), stdin: process.stdin, now: Date.now },
): Promise<ExitCode> {
  const { out, err } = context.terminal;
  try {
    const [first] = argv;
    if (first === undefined) {
      err.line(HELP);
      return EXIT.usage;
    }
    if (first === '--help' || first === '-h' || first === 'help') {
      const topic = first === 'help' ? findCommand(argv.slice(1)).command : undefined;
      const group = argv[1];
      out.line(topic?.help ?? (group !== undefined && GROUPS.includes(group) ? groupHelp(group) : HELP));
      return EXIT.ok;
    }
    if (first === '--version' || first === '-v') {
      out.line(packageVersion());
      return EXIT.ok;
    }
    const { command, rest } = findCommand(argv);
    if (!command) {
      if (GROUPS.includes(first)) {
        const sub = argv[1];
        if (sub === undefined || hasFlag([sub], '--help', '-h')) {
          (sub === undefined ? err : out).line(groupHelp(first));
          return sub === undefined ? EXIT.usage : EXIT.ok;
        }
        throw unknownCommand(sub, groupOf(first).words, first);
      }
      throw unknownCommand(first, COMMAND_WORDS);
    }
    if (hasFlag(rest, '--help', '-h')) {
      out.line(command.help);
      return EXIT.ok;
    }
    return await command.run(rest, context);
  } catch (error) {
    return reportError(error, context.terminal, {
      json: hasFlag(argv, '--json'),
      debug: hasFlag(argv, '--debug'),
    });
  }
}

/**
 * Print a failure as one line on stderr (and, for `--json`, as `{"error": …}` on stdout) and
 * return its exit code. The stack (and causes) only with `--debug`.
 */
function reportError(
  error: unknown,
  terminal: Terminal,
  options: { json: boolean; debug: boolean },
): ExitCode {
  const exitCode = exitCodeFor(error);
  const known = error instanceof CognitoJwtError;
  // The command line builds a single verifier config, so the library's "config 0: " prefix says nothing.
  // withoutTokens: whatever put user input in the message, a token is never printed.
  const message = withoutTokens(
    printable(known ? error.message.replace(/^config 0: /, '') : String((error as Error)?.message ?? error)),
  );
  const code = known ? error.code : 'unexpected error';
  const { err, out } = terminal;
  err.line(`${err.paint(['bold', 'red'], 'error')} ${err.paint('bold', code)}: ${message}`);
  if (options.json) {
    const claim = known && error.claim !== undefined ? { claim: error.claim } : {};
    out.line(JSON.stringify({ error: { code, message, ...claim, exitCode } }, null, 2));
  }
  if (options.debug) {
    for (let cause: unknown = error; cause !== undefined; cause = (cause as Error).cause) {
      const text = cause instanceof Error ? (cause.stack ?? String(cause)) : String(cause);
      err.line(err.paint('dim', withoutTokens(text)));
      if (!(cause instanceof Error)) break;
    }
  } else if (!known) err.line(err.paint('dim', 'run again with --debug to see the stack'));
  return exitCode;
}
