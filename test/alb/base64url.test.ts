import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { decodePaddedBase64url, parseAlbToken } from '../../src/alb/index.ts';
import { CognitoJwtError } from '../../src/errors.ts';
import { mintAlbToken } from '../../src/testing/index.ts';
import { throwsCode } from '../helpers/assert-error.ts';
import { type AlbFixture, startAlbFixture } from './fixture.ts';

describe('padded base64url, one spelling only', () => {
  test('what an encoder writes decodes, for every length remainder', () => {
    for (const text of ['', 'a', 'ab', 'abc', 'abcd', '\u00ff\u00fe']) {
      const bytes = Buffer.from(text, 'latin1');
      const plain = bytes.toString('base64url');
      const padded = plain.padEnd(Math.ceil(plain.length / 4) * 4, '=');
      if (padded === '') continue; // an empty segment is never a valid ALB segment
      assert.deepEqual(decodePaddedBase64url(padded, 'payload'), bytes);
    }
  });

  test('padding removed, added, doubled or moved is refused, though Node decodes each to the same bytes', () => {
    // "YQ==" is "a": every other spelling below decodes to "a" in Node.
    for (const spelling of ['YQ', 'YQ=', 'YQ===', 'YQ====', 'Y=Q=', '=YQ=', 'YQ==YQ==', 'YR==', 'YQ=\n=']) {
      assert.notEqual(spelling, 'YQ==');
      throwsCode(() => decodePaddedBase64url(spelling, 'payload'), 'ERR_TOKEN_MALFORMED');
    }
    // "YWI=" is "ab": no padding, two, and unused bits set are refused.
    for (const spelling of ['YWI', 'YWI==', 'YWJ=', 'YWI=====']) {
      throwsCode(() => decodePaddedBase64url(spelling, 'payload'), 'ERR_TOKEN_MALFORMED');
    }
    // A full group has no padding at all.
    throwsCode(() => decodePaddedBase64url('YWJj====', 'payload'), 'ERR_TOKEN_MALFORMED');
    assert.deepEqual(decodePaddedBase64url('YWJj', 'payload'), Buffer.from('abc'));
  });

  test("standard base64's '+' and '/', whitespace and other characters are refused", () => {
    assert.deepEqual(Buffer.from('+/8=', 'base64url'), Buffer.from('-_8=', 'base64url'));
    assert.deepEqual(decodePaddedBase64url('-_8=', 'signature'), Buffer.from([0xfb, 0xff]));
    for (const bad of ['+/8=', 'ab c', 'ab\nc', 'a%3D', 'abç=', 'ab.c']) {
      throwsCode(() => decodePaddedBase64url(bad, 'signature'), 'ERR_TOKEN_MALFORMED');
    }
  });
});

describe('every single-character substitution of a valid token is refused', () => {
  let fixture: AlbFixture;
  let token: string;
  before(async () => {
    fixture = await startAlbFixture();
    token = mintAlbToken({ key: fixture.key, sub: 'user-1' });
    await fixture.verifier.verify(token); // the key is held from here on: verifySync never fetches
  });
  after(() => fixture.close());

  /**
   * The mutated token is refused by the parser, or its segments decode to other bytes than the
   * original's (one spelling per token); and the verifier refuses it either way.
   */
  function assertRefused(mutated: string): void {
    let parsed = true;
    try {
      parseAlbToken(mutated);
    } catch (error) {
      assert.ok(error instanceof CognitoJwtError, String(error));
      assert.equal(error.code, 'ERR_TOKEN_MALFORMED');
      parsed = false;
    }
    if (parsed) {
      const bytes = (text: string) =>
        text.split('.').map((segment) => decodePaddedBase64url(segment, 'segment'));
      const [original, other] = [bytes(token), bytes(mutated)];
      const same = original.every((segment, index) => Buffer.from(segment).equals(other[index]!));
      assert.ok(!same, `a second spelling of the same token: ${JSON.stringify(mutated)}`);
    }
    assert.throws(() => fixture.verifier.verifySync(mutated), CognitoJwtError);
  }

  /**
   * Run `body` with errors that capture no stack: the cases below throw about two million of them,
   * and capturing each stack doubled the file's time. The errors' codes are still checked.
   */
  function withoutStacks(body: () => void): void {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      body();
    } finally {
      Error.stackTraceLimit = limit;
    }
  }

  test('the unmutated token verifies (so a refusal below is the mutation)', () => {
    assert.equal(fixture.verifier.verifySync(token).claims.sub, 'user-1');
  });

  test('at the sensitive positions, every UTF-16 code unit (0x0000-0xFFFF)', () => {
    const positions = new Set<number>();
    for (let at = token.indexOf('.'); at !== -1; at = token.indexOf('.', at + 1)) {
      for (const near of [at - 3, at - 2, at - 1, at, at + 1]) positions.add(near);
    }
    for (const near of [0, token.length - 3, token.length - 2, token.length - 1]) positions.add(near);
    withoutStacks(() => {
      for (const position of positions) {
        for (let code = 0; code <= 0xffff; code++) {
          if (token.charCodeAt(position) === code) continue;
          const mutated = token.slice(0, position) + String.fromCharCode(code) + token.slice(position + 1);
          assertRefused(mutated);
        }
      }
    });
  });

  test('anywhere in the token, any code unit (fast-check)', () => {
    withoutStacks(() =>
      fc.assert(
        fc.property(fc.nat(token.length - 1), fc.integer({ min: 0, max: 0xffff }), (position, code) => {
          fc.pre(token.charCodeAt(position) !== code);
          assertRefused(token.slice(0, position) + String.fromCharCode(code) + token.slice(position + 1));
        }),
        { numRuns: 20_000 },
      ),
    );
  });

  test('padding added or removed at the end of any segment', () => {
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const trim = (segment: string) => segment.replace(/=+$/, '');
    for (const parts of [
      [trim(header), payload, signature],
      [header, trim(payload), signature],
      [header, payload, trim(signature)],
      [`${header}=`, payload, signature],
      [header, `${payload}==`, signature],
      [header, payload, `${signature}=`],
      [trim(header), trim(payload), trim(signature)],
    ]) {
      const mutated = parts.join('.');
      assert.notEqual(mutated, token);
      assertRefused(mutated);
    }
  });
});
