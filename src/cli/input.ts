import { readFile } from 'node:fs/promises';
import { CognitoJwtError, ConfigError } from '../errors.ts';
import { usageError } from './args.ts';

/** More than any token needs; stdin is not read past it. */
const MAX_STDIN_BYTES = 1024 * 1024;

/** The stream a token is read from when none is given as an argument. */
export interface TokenSource {
  readonly isTTY?: boolean;
  [Symbol.asyncIterator](): AsyncIterator<string | Buffer>;
}

/**
 * The token a command works on: the argument, or stdin when the argument is `-` or missing and
 * stdin is not a terminal (`pbpaste | cognito-jwt inspect`). Whitespace, surrounding quotes and an
 * `Authorization: Bearer` prefix are removed, so a copied header or JSON string works as it is.
 *
 * ```ts
 * const token = await readToken('inspect', positionals[0], process.stdin);
 * ```
 */
export async function readToken(
  command: string,
  argument: string | undefined,
  stdin: TokenSource,
): Promise<string> {
  let text: string;
  if (argument !== undefined && argument !== '-') text = argument;
  else if (argument === undefined && stdin.isTTY) {
    throw usageError(command, 'no token given: pass it as an argument, or pipe it on stdin');
  } else text = await readAll(stdin);
  const token = cleanToken(text);
  if (token.length === 0) {
    throw usageError(
      command,
      argument === undefined || argument === '-' ? 'stdin held no token' : 'the token is empty',
    );
  }
  return token;
}

/**
 * A token as people paste it, reduced to the token: trimmed, without `Authorization:`, `Bearer`
 * or surrounding quotes.
 *
 * ```ts
 * cleanToken('Authorization: Bearer eyJ…\n'); // 'eyJ…'
 * ```
 */
export function cleanToken(text: string): string {
  let token = text
    .trim()
    .replace(/^authorization:\s*/i, '')
    .replace(/^bearer\s+/i, '');
  if (token.length >= 2 && /^(["']).*\1$/s.test(token)) token = token.slice(1, -1).trim();
  return token;
}

async function readAll(stdin: TokenSource): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += bytes.length;
    if (size > MAX_STDIN_BYTES) {
      throw new CognitoJwtError(
        'ERR_TOKEN_MALFORMED',
        `stdin holds more than ${MAX_STDIN_BYTES} bytes: not a token`,
      );
    }
    chunks.push(bytes);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Whether a command-line value names a URL rather than a file.
 *
 * ```ts
 * isUrl('https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC/.well-known/jwks.json'); // true
 * ```
 */
export function isUrl(value: string): boolean {
  return /^https?:\/\//i.test(value);
}

/**
 * Read and parse a JSON file; an unreadable file or invalid JSON is a {@link ConfigError}.
 *
 * ```ts
 * const jwks = await readJsonFile('jwks.json', 'the JWKS file');
 * ```
 */
export async function readJsonFile(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException).code ?? (cause as Error).message;
    throw new ConfigError(`cannot read ${what} ${JSON.stringify(path)} (${reason})`, { cause });
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new ConfigError(`${what} ${JSON.stringify(path)} is not valid JSON`, { cause });
  }
}
