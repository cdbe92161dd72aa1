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
    // The slower scan runs only here, on a token already refused, to name the member.
    const at = duplicateMember(text);
    throw new CognitoJwtError(
      'ERR_TOKEN_MALFORMED',
      `the ${what} has duplicate member names` +
        (at === undefined ? '' : ` (${at.length > 64 ? `${at.slice(0, 64)}…` : at})`),
    );
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

/**
 * The JSON path of the first member name that an object of `text` repeats (`routes`,
 * `pools[0].clientId`, `a["odd key"]`), or `undefined` when none does. Names compare after their
 * escapes are read (`"s\u0075b"` is `sub`). `text` must be valid JSON (parse it first): this
 * only walks it. It builds a set per object, so the token parser runs it only to name the
 * duplicate its member count already found; a config file is read with it in full.
 *
 * ```ts
 * duplicateMember('{"routes":[],"routes":[]}'); // 'routes'
 * duplicateMember('{"a":[{"b":1,"b":2}]}'); // 'a[0].b'
 * ```
 */
export function duplicateMember(text: string): string | undefined {
  // One frame per open object or array: its path, and the names seen (objects) or the index (arrays).
  const frames: { path: string; names: Set<string> | undefined; index: number }[] = [];
  let next = ''; // the path of the value that comes next
  let previous = '';
  for (const [token] of text.matchAll(/"(?:[^"\\]|\\.)*"|[{}[\],]/g)) {
    const frame = frames.at(-1);
    if (token === '{' || token === '[') {
      frames.push({ path: next, names: token === '{' ? new Set() : undefined, index: 0 });
      if (token === '[') next = `${next}[0]`;
    } else if (token === '}' || token === ']') frames.pop();
    else if (token === ',') {
      if (frame !== undefined && frame.names === undefined) next = `${frame.path}[${++frame.index}]`;
    } else if (frame?.names !== undefined && (previous === '{' || previous === ',')) {
      // A string right after `{` or `,` in an object is a member name (escapes read: "s\u0075b" is sub).
      const name = JSON.parse(token) as string;
      next = memberPath(frame.path, name);
      if (frame.names.has(name)) return next;
      frame.names.add(name);
    }
    previous = token;
  }
  return undefined;
}

function memberPath(path: string, name: string): string {
  if (/^[A-Za-z_$][\w$]*$/.test(name)) return path === '' ? name : `${path}.${name}`;
  return `${path}[${JSON.stringify(name)}]`;
}
