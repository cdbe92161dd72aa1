import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cleanToken } from '../../src/cli/input.ts';
import { printable, wrap } from '../../src/cli/text.ts';

test('printable escapes C0, C1, DEL and bidi controls, and keeps ordinary text', () => {
  assert.equal(printable('plain text, ünïcode ✓'), 'plain text, ünïcode ✓');
  assert.equal(printable('a\u001b[31mb'), 'a\\u001b[31mb');
  assert.equal(printable('new\nline\ttab'), 'new\\u000aline\\u0009tab');
  assert.equal(printable('c1\u009bx\u007f'), 'c1\\u009bx\\u007f');
  assert.equal(printable('evil\u202egnp.exe'), 'evil\\u202egnp.exe');
  assert.equal(printable(['a', 1, { b: true }]), '["a",1,{"b":true}]');
  assert.equal(printable(['\u001b']), '["\\u001b"]', 'JSON already escapes controls inside values');
});

test('cleanToken removes what people paste around a token', () => {
  assert.equal(cleanToken('  eyJ.a.b \n'), 'eyJ.a.b');
  assert.equal(cleanToken('Bearer eyJ.a.b'), 'eyJ.a.b');
  assert.equal(cleanToken('authorization: bearer eyJ.a.b'), 'eyJ.a.b');
  assert.equal(cleanToken('"eyJ.a.b"'), 'eyJ.a.b');
  assert.equal(cleanToken("'eyJ.a.b'\n"), 'eyJ.a.b');
  assert.equal(cleanToken('"eyJ.a.b'), '"eyJ.a.b', 'an unbalanced quote stays, and fails as malformed');
});

test('wrap breaks prose at the width and keeps long words whole', () => {
  assert.deepEqual(wrap('one two three four', 9), ['one two', 'three', 'four']);
  assert.deepEqual(wrap('a https://example.com/very/long/url b', 10), [
    'a',
    'https://example.com/very/long/url',
    'b',
  ]);
  assert.deepEqual(wrap('', 10), []);
});
