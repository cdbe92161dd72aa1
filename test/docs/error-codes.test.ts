/**
 * The README's error-code table is the public list of codes: every code the library can throw has
 * a row with its HTTP status, and every row names a code that exists. (The token endpoint's
 * `ERR_OAUTH_*` codes share one row that points to docs/oauth.md, which lists them.)
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ERROR_STATUS } from '../../src/errors.ts';
import { ROOT } from '../helpers/doc-blocks.ts';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const ROWS = new Map(
  [...README.matchAll(/^\| `(ERR_[A-Z_*]+)` \| ([\d–]+) \|/gm)].map((match) => [
    match[1] as string,
    match[2] as string,
  ]),
);

test('every error code has a row in the README table, with its status', () => {
  const missing: string[] = [];
  for (const [code, status] of Object.entries(ERROR_STATUS)) {
    if (code.startsWith('ERR_OAUTH_')) continue;
    const row = ROWS.get(code);
    if (row === undefined) missing.push(code);
    else assert.equal(row, String(status), `${code}: the README says ${row}`);
  }
  assert.deepEqual(missing, [], 'codes without a row in the README error table');
  assert.ok(ROWS.has('ERR_OAUTH_*'));
});

test('every row of the README table names a code that exists', () => {
  const unknown = [...ROWS.keys()].filter((code) => code !== 'ERR_OAUTH_*' && !(code in ERROR_STATUS));
  assert.deepEqual(unknown, []);
});

test('the OAuth codes are each listed in docs/oauth.md', () => {
  const oauth = readFileSync(join(ROOT, 'docs', 'oauth.md'), 'utf8');
  const missing = Object.keys(ERROR_STATUS).filter(
    (code) => code.startsWith('ERR_OAUTH_') && !oauth.includes(`\`${code}\``),
  );
  assert.deepEqual(missing, []);
});
