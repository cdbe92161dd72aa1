/**
 * Every relative link and #anchor of README.md and docs/**\/*.md (the generated API reference
 * included) resolves: the README is read on the registry page and on GitHub, where a broken link
 * is a dead end.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../helpers/doc-blocks.ts';
import { anchorsOf, brokenLinks, slug } from '../helpers/doc-links.ts';

const files = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'), { recursive: true })
    .map((path) => join('docs', String(path)))
    .filter((path) => path.endsWith('.md'))
    .sort(),
];

test('headings become the anchors GitHub makes', () => {
  assert.equal(slug('Express (`cognito-jwt/express`)'), 'express-cognito-jwtexpress');
  assert.equal(slug('Class: CognitoVerifier\\<Config\\>'), 'class-cognitoverifierconfig');
  assert.equal(
    slug("Keeping a user's tokens fresh: `TokenSession`"),
    'keeping-a-users-tokens-fresh-tokensession',
  );
  assert.deepEqual([...anchorsOf('# A\n## A\n```\n# not a heading\n```\n<a id="x"></a>')].sort(), [
    'a',
    'a-1',
    'x',
  ]);
});

test('a broken link is found: a missing file, a missing heading, a link in code is ignored', () => {
  const broken = brokenLinks(['test/docs/fixtures/links.md'], ROOT);
  assert.deepEqual(broken, [
    'test/docs/fixtures/links.md:5: missing.md (no such file)',
    'test/docs/fixtures/links.md:6: #no-such-heading (no such heading)',
    'test/docs/fixtures/links.md:7: ../../../README.md#no-such-section (no such heading)',
  ]);
});

test(`every relative link and anchor of README.md and docs/ resolves (${files.length} files)`, () => {
  assert.ok(files.length >= 3);
  assert.deepEqual(brokenLinks(files, ROOT), []);
});
