import { CognitoJwtError } from '../errors.ts';

/** Deepest nesting accepted in a header or payload; Cognito claims nest two levels at most. */
export const MAX_JSON_DEPTH = 32;

// fatal: invalid UTF-8 throws instead of becoming U+FFFD; ignoreBOM: a BOM stays and fails JSON.parse.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Parse a JSON object strictly: valid UTF-8, an object at the top, no duplicate member names
 * (parsers disagree on which duplicate wins, RFC 8725 §2.6), bounded depth.
 * `JSON.parse` defines `__proto__` as an own data property, so no prototype is ever touched.
 */
export function parseJsonObject(bytes: Uint8Array, what: string): Record<string, unknown> {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new CognitoJwtError('ERR_TOKEN_MALFORMED', `the ${what} is not valid UTF-8`);
  }
  const members = countMembers(text, what);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CognitoJwtError('ERR_TOKEN_MALFORMED', `the ${what} is not valid JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CognitoJwtError('ERR_TOKEN_MALFORMED', `the ${what} must be a JSON object`);
  }
  if (countKeys(value) !== members) {
    throw new CognitoJwtError('ERR_TOKEN_MALFORMED', `the ${what} has duplicate member names`);
  }
  return value as Record<string, unknown>;
}

/**
 * Count the object members written in the text: in JSON, a colon outside a string separates
 * exactly one member name from its value. If the parsed value has fewer keys, a name repeated.
 * Strings are skipped with `indexOf` (most of a token is strings), which is what keeps this scan
 * cheap next to `JSON.parse`.
 */
function countMembers(text: string, what: string): number {
  let members = 0;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      i = text.indexOf('"', i + 1);
      while (i !== -1 && isEscaped(text, i)) i = text.indexOf('"', i + 1);
      if (i === -1) return members; // an unterminated string: JSON.parse rejects the text
    } else if (c === 58 /* : */) members++;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > MAX_JSON_DEPTH) {
        throw new CognitoJwtError(
          'ERR_TOKEN_MALFORMED',
          `the ${what} nests deeper than ${MAX_JSON_DEPTH} levels`,
        );
      }
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
  return members;
}

/** A quote inside a string is escaped when an odd number of backslashes precede it. */
function isEscaped(text: string, quote: number): boolean {
  let backslashes = 0;
  for (let j = quote - 1; text.charCodeAt(j) === 92 /* \ */; j--) backslashes++;
  return backslashes % 2 === 1;
}

function countKeys(value: object): number {
  let count = 0;
  if (Array.isArray(value)) {
    for (const item of value) if (typeof item === 'object' && item !== null) count += countKeys(item);
    return count;
  }
  const keys = Object.keys(value);
  count = keys.length;
  for (const key of keys) {
    const item = (value as Record<string, unknown>)[key];
    if (typeof item === 'object' && item !== null) count += countKeys(item);
  }
  return count;
}
