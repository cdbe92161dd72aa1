/**
 * docs/api/ (the API reference typedoc renders from the TSDoc, committed so that it can be read on
 * GitHub and in the tarball) is what `npm run docs:api` makes from the sources as they are now.
 * Its links are checked by links.test.ts with the rest of docs/.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../helpers/doc-blocks.ts';

function tree(dir: string): Map<string, string> {
  return new Map(
    readdirSync(dir, { recursive: true })
      .map(String)
      .filter((path) => path.endsWith('.md'))
      .sort()
      .map((path) => [path, readFileSync(join(dir, path), 'utf8')]),
  );
}

test('docs/api is up to date with the TSDoc (else run `npm run docs:api`)', async () => {
  const fresh = await mkdtemp(join(tmpdir(), 'cognito-jwt-api-'));
  try {
    await new Promise<void>((resolve, reject) => {
      execFile(
        process.execPath,
        [join(ROOT, 'scripts', 'docs-api.mjs'), fresh],
        { cwd: ROOT, timeout: 180_000, maxBuffer: 16 * 1024 * 1024 },
        (error, _stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve()),
      );
    });
    const expected = tree(fresh);
    const committed = tree(join(ROOT, 'docs', 'api'));
    assert.ok(expected.size > 20, 'typedoc documented the public API');
    const stale = [...new Set([...expected.keys(), ...committed.keys()])].filter(
      (path) => expected.get(path) !== committed.get(path),
    );
    assert.deepEqual(stale, [], 'these pages of docs/api differ from the TSDoc: run `npm run docs:api`');
  } finally {
    await rm(fresh, { recursive: true, force: true });
  }
});
