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
