import { type ParseArgsConfig, parseArgs } from 'node:util';
import { ConfigError, describeValue } from '../errors.ts';
import { closestName } from '../options.ts';
import { isUserPoolId } from '../pool/id.ts';
import { checkUrl } from '../pool/url.ts';
import { looksLikeToken } from './text.ts';

/**
 * Options every command accepts: `--help`/`-h` and `--debug` (print the stack of an error).
 *
 * ```ts
 * parseCommand('inspect', ['--debug', token], {}, 1).values.debug; // true
 * ```
 */
export const COMMON_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  debug: { type: 'boolean' },
} as const;

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

type OptionValue<Option> = Option extends { type: 'boolean' }
  ? Option extends { multiple: true }
    ? boolean[]
    : boolean
  : Option extends { multiple: true }
    ? string[]
    : string;

/** What {@link parseCommand} returns: each option's value (absent when not given), and the positionals. */
export interface ParsedCommand<Options extends OptionsConfig> {
  values: {
    [Name in keyof (Options & typeof COMMON_OPTIONS)]?: OptionValue<(Options & typeof COMMON_OPTIONS)[Name]>;
  };
  positionals: string[];
}

/** Options whose value is meant to be a token (read from the argument, or `-` for stdin). */
const TOKEN_OPTIONS: ReadonlySet<string> = new Set(['token']);

/**
 * Parse a command's arguments strictly with `util.parseArgs`: unknown options, missing values and
 * surplus positionals become a one-line {@link ConfigError} that points at `--help`. A token given
 * where no token belongs (an option's value, or a positional unless `tokenPositional`) is refused
 * without being repeated: it would land in error messages, suggestions and success lines.
 *
 * ```ts
 * const { values, positionals } = parseCommand('inspect', argv, { json: { type: 'boolean' } }, 1, {
 *   tokenPositional: true,
 * });
 * ```
 */
export function parseCommand<const Options extends OptionsConfig>(
  command: string,
  args: readonly string[],
  options: Options,
  maxPositionals: number,
  { tokenPositional = false }: { tokenPositional?: boolean } = {},
): ParsedCommand<Options> {
  let parsed: ParsedCommand<Options>;
  try {
    // strict parsing guarantees each value has its declared type, which is what ParsedCommand states
    const result = parseArgs({
      args,
      options: { ...COMMON_OPTIONS, ...options },
      allowPositionals: true,
      strict: true,
      tokens: true,
    });
    for (const token of result.tokens) {
      if (token.kind === 'option' && token.value !== undefined && !TOKEN_OPTIONS.has(token.name)) {
        if (looksLikeToken(token.value)) throw tokenGiven(command, token.rawName);
      } else if (token.kind === 'positional' && !tokenPositional && looksLikeToken(token.value)) {
        throw tokenGiven(command, 'an argument');
      }
    }
    parsed = { values: result.values, positionals: result.positionals } as ParsedCommand<Options>;
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const flag = unknownFlag(error);
    const near = flag === undefined ? undefined : closestFlag(flag, { ...COMMON_OPTIONS, ...options });
    if (near !== undefined) {
      throw usageError(command, `Unknown option '${flag}'; did you mean '${near}'?`);
    }
    throw usageError(command, oneLine((error as Error).message));
  }
  if (parsed.positionals.length > maxPositionals) {
    const surplus = parsed.positionals[maxPositionals];
    throw usageError(command, `unexpected argument ${describeValue(surplus)}`);
  }
  return parsed;
}

function tokenGiven(command: string, where: string): ConfigError {
  return usageError(
    command,
    `${where} holds a token, which it does not take (the token is not shown); ` +
      '"cognito-jwt inspect -" reads a token from stdin and shows its claims',
  );
}

/**
 * A whole number option within bounds, as a usage error that names the option as typed.
 *
 * ```ts
 * const port = integerOption('serve', '--port', values.port, 0, 65535);
 * ```
 */
export function integerOption(
  command: string,
  option: string,
  value: string,
  min: number,
  max: number,
): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < min || number > max) {
    throw usageError(
      command,
      `${option} must be a whole number from ${min} to ${max}, got ${describeValue(value)}`,
    );
  }
  return number;
}

/**
 * `--user-pool-id`, checked here so its mistake names the flag, not the library's `userPoolId`.
 *
 * ```ts
 * const userPoolId = userPoolIdOption('verify', required('verify', '--user-pool-id', values['user-pool-id']));
 * ```
 */
export function userPoolIdOption(command: string, value: string): string {
  if (!isUserPoolId(value)) {
    throw usageError(
      command,
      `--user-pool-id must look like "eu-west-1_AbC123", got ${describeValue(value)}`,
    );
  }
  return value;
}

/**
 * A URL option (`--issuer`, `--jwks`): `https:`, or `http:` on loopback, named as typed.
 *
 * ```ts
 * const issuer = urlOption('verify', '--issuer', values.issuer);
 * ```
 */
export function urlOption(command: string, option: string, value: string): string {
  try {
    return checkUrl(option, value);
  } catch (error) {
    throw usageError(command, (error as Error).message);
  }
}

/**
 * A usage mistake, worded as one line that points at the command's help.
 *
 * ```ts
 * throw usageError('verify', '--client-id is required');
 * ```
 */
export function usageError(command: string, message: string): ConfigError {
  return new ConfigError(`${message} (see: cognito-jwt ${command} --help)`);
}

/**
 * The value of an option the command cannot do without.
 *
 * ```ts
 * const poolId = required('verify', '--user-pool-id', values['user-pool-id']);
 * ```
 */
export function required<Value>(command: string, option: string, value: Value | undefined): Value {
  if (value === undefined) throw usageError(command, `${option} is required`);
  return value;
}

/**
 * One of a fixed set of words.
 *
 * ```ts
 * const use = oneOf('verify', '--token-use', values['token-use'], ['id', 'access', 'any']);
 * ```
 */
export function oneOf<const Choice extends string>(
  command: string,
  option: string,
  value: string,
  choices: readonly Choice[],
): Choice {
  if (!(choices as readonly string[]).includes(value)) {
    throw usageError(command, `${option} must be ${choices.join(', ')}; got ${describeValue(value)}`);
  }
  return value as Choice;
}

/** The flag `util.parseArgs` did not know (`--user-pool`), from its error. */
function unknownFlag(error: unknown): string | undefined {
  if ((error as { code?: unknown })?.code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return undefined;
  return /^Unknown option '([^']+)'/.exec((error as Error).message)?.[1];
}

/**
 * The known flag nearest to a mistyped one (`--user-pool` → `--user-pool-id`, `--clientid` →
 * `--client-id`), or `undefined` when none is near enough to be a likely typo.
 *
 * ```ts
 * closestFlag('--user-pool', { 'user-pool-id': { type: 'string' } }); // '--user-pool-id'
 * ```
 */
export function closestFlag(flag: string, options: OptionsConfig): string | undefined {
  const bare = flag.replace(/^-+/, '');
  if (bare.length <= 1) return undefined; // `-x`: one letter says too little to guess from
  const near = closestName(bare, Object.keys(options));
  return near === undefined ? undefined : `--${near}`;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
