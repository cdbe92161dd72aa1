// C0 and C1 controls, DEL, and the bidirectional overrides that could rewrite a terminal line.
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * A claim value from an untrusted token, made safe for a terminal: strings as they are but with
 * control characters escaped (a token must not be able to send escape sequences), anything else
 * as one line of JSON.
 *
 * ```ts
 * printable('admin\u001b[2J'); // 'admin\\u001b[2J'
 * printable(['a', 'b']);       // '["a","b"]'
 * ```
 */
export function printable(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return text.replace(UNPRINTABLE, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

// base64url of '{"' is 'eyJ': every JWT, JWE and load balancer token starts so. Also matches a
// token cut short ("eyJhbGciOi...", as describeValue shows a long value) and one behind `--`.
const TOKEN_TEXT = /(?<![A-Za-z0-9_])eyJ[A-Za-z0-9_-]{16,}={0,2}(?:\.[A-Za-z0-9_-]*={0,2})*/g;

/**
 * Whether a command-line value holds a token (or the start of one).
 *
 * ```ts
 * looksLikeToken('eyJraWQiOiJhYmMiLCJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln'); // true
 * looksLikeToken('eu-west-1_AbC123'); // false
 * ```
 */
export function looksLikeToken(value: string): boolean {
  TOKEN_TEXT.lastIndex = 0;
  return TOKEN_TEXT.test(value);
}

/**
 * A message with every token (or start of one) in it replaced by its length: the last guard, so
 * no error line the CLI prints can carry a token, whatever put it in the message.
 *
 * ```ts
 * withoutTokens('unknown command "eyJraWQiOi…"'); // 'unknown command "[a token of 1083 characters, not shown]"'
 * ```
 */
export function withoutTokens(text: string): string {
  return text.replace(TOKEN_TEXT, (token) => `[a token of ${token.length} characters, not shown]`);
}

/** Characters of a token shown to identify it: enough to tell tokens apart, far too few to use one. */
export const TOKEN_PREFIX_LENGTH = 12;

/**
 * Break prose into lines of at most `width` characters (words longer than that stay whole).
 *
 * ```ts
 * wrap('a long explanation …', 60).forEach((line) => console.log(`  ${line}`));
 * ```
 */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}
