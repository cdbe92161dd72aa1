import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeUnverified } from '../../src/index.ts';
import { buildJwks, generateKeyPair, mintIdToken } from '../../src/testing/index.ts';
import { decodeBase64url } from '../../src/token/base64url.ts';
import { CognitoVerifier } from '../../src/verify/verifier.ts';
import { throwsCode } from '../helpers/assert-error.ts';
import { noFetch } from '../helpers/no-fetch.ts';
import { base64url, splitToken } from '../helpers/raw-jwt.ts';

const header = base64url('{"alg":"RS256","kid":"k1"}');
const payload = base64url('{"sub":"abc","token_use":"id"}');
const signature = base64url('not checked by decodeUnverified');

function tokenWith(parts: { header?: string; payload?: string; signature?: string }): string {
  return `${parts.header ?? header}.${parts.payload ?? payload}.${parts.signature ?? signature}`;
}

describe('strict base64url segments', () => {
  test('a well-formed token decodes', () => {
    assert.deepEqual(decodeUnverified(tokenWith({})).payload, { sub: 'abc', token_use: 'id' });
  });

  test('padding is refused in every segment, though Node decodes it to the same bytes', () => {
    const pad = (segment: string) => `${segment}${'='.repeat((4 - (segment.length % 4)) % 4)}`;
    const paddedHeader = pad(base64url('{"alg":"RS256","kid":"k"}'));
    assert.ok(paddedHeader.endsWith('='));
    assert.deepEqual(Buffer.from(paddedHeader, 'base64url'), Buffer.from('{"alg":"RS256","kid":"k"}'));
    for (const parts of [
      { header: paddedHeader },
      { payload: `${payload}=` },
      { payload: `${payload}==` },
      { signature: pad(base64url('a signature')) },
    ]) {
      assert.ok(Object.values(parts)[0]?.endsWith('='));
      throwsCode(() => decodeUnverified(tokenWith(parts)), 'ERR_TOKEN_MALFORMED', {
        message: 'not base64url (no padding, no whitespace)',
      });
    }
  });

  test('any character outside the alphabet is refused, ASCII or not, whatever the length', () => {
    for (const odd of ['!', '\u0000', '.', '%', '"', 'é', '\u0100', '\u{1F600}', 'é!', '!!!', '====']) {
      for (const at of [0, 8, payload.length]) {
        const bent = `${payload.slice(0, at)}${odd}${payload.slice(at)}`;
        if (bent.includes('.')) continue; // a dot splits the token instead: covered by the segment tests
        throwsCode(() => decodeUnverified(tokenWith({ payload: bent })), 'ERR_TOKEN_MALFORMED', {
          message: 'payload is not base64url',
        });
      }
    }
  });

  test('whitespace anywhere in a segment is refused (Node would skip it)', () => {
    for (const blank of [' ', '\n', '\t', '\r\n', '\u00a0']) {
      const bent = `${payload.slice(0, 8)}${blank}${payload.slice(8)}`;
      assert.deepEqual(Buffer.from(bent, 'base64url'), Buffer.from(payload, 'base64url'));
      throwsCode(() => decodeUnverified(tokenWith({ payload: bent })), 'ERR_TOKEN_MALFORMED', {
        message: 'payload is not base64url',
      });
    }
    throwsCode(() => decodeUnverified(` ${tokenWith({})}`), 'ERR_TOKEN_MALFORMED');
    throwsCode(() => decodeUnverified(`${tokenWith({})}\n`), 'ERR_TOKEN_MALFORMED');
  });

  test("the standard alphabet's '+' and '/' are refused", () => {
    // 0xfb 0xff encodes to "-_8" in base64url and "+/8" in standard base64; Node accepts both.
    const bytes = Buffer.from([0xfb, 0xff]);
    assert.equal(bytes.toString('base64url'), '-_8');
    assert.deepEqual(Buffer.from('+/8', 'base64url'), bytes);
    throwsCode(() => decodeBase64url('+/8', 'signature'), 'ERR_TOKEN_MALFORMED');
    throwsCode(() => decodeUnverified(tokenWith({ signature: 'abc+def' })), 'ERR_TOKEN_MALFORMED');
    throwsCode(() => decodeUnverified(tokenWith({ signature: 'abc/def' })), 'ERR_TOKEN_MALFORMED');
    assert.deepEqual(decodeBase64url('-_8', 'signature'), bytes);
  });

  test('other characters outside the alphabet are refused', () => {
    for (const bad of ['ab*c', 'ab%3D', 'ab!c', 'abç', 'ab\u0000c']) {
      throwsCode(() => decodeBase64url(bad, 'header'), 'ERR_TOKEN_MALFORMED', { message: 'header' });
    }
  });

  test('a non-canonical last character is refused (two texts, same bytes)', () => {
    // "QQ" is "A"; "QR" differs only in the 4 unused bits, and Node decodes it to "A" as well.
    assert.deepEqual(Buffer.from('QR', 'base64url'), Buffer.from('A'));
    assert.deepEqual(decodeBase64url('QQ', 'payload'), Buffer.from('A'));
    throwsCode(() => decodeBase64url('QR', 'payload'), 'ERR_TOKEN_MALFORMED', { message: 'canonical' });
    // Three characters leave 2 unused bits: "QUI" is "AB", "QUJ" would decode to "AB" too.
    assert.deepEqual(Buffer.from('QUJ', 'base64url'), Buffer.from('AB'));
    assert.deepEqual(decodeBase64url('QUI', 'payload'), Buffer.from('AB'));
    throwsCode(() => decodeBase64url('QUJ', 'payload'), 'ERR_TOKEN_MALFORMED', { message: 'canonical' });
    // A length of 4n+1 cannot be base64 at all.
    throwsCode(() => decodeBase64url('QUJDR', 'payload'), 'ERR_TOKEN_MALFORMED');
  });

  test('every last character: accepted exactly when it is the canonical spelling of its bytes', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (const stem of ['Q', 'QU', 'QUJD', 'QUJDR']) {
      for (const last of alphabet) {
        const segment = stem + last;
        if (segment.length % 4 === 1) continue; // no encoder makes that length; refused above
        const canonical = Buffer.from(segment, 'base64url').toString('base64url') === segment;
        if (canonical)
          assert.deepEqual(decodeBase64url(segment, 'payload'), Buffer.from(segment, 'base64url'));
        else
          throwsCode(() => decodeBase64url(segment, 'payload'), 'ERR_TOKEN_MALFORMED', {
            message: 'canonical',
          });
      }
    }
  });

  test('an empty segment decodes to no bytes (the JSON or signature check names the problem)', () => {
    assert.equal(decodeBase64url('', 'signature').length, 0);
    throwsCode(() => decodeUnverified(tokenWith({ header: '' })), 'ERR_TOKEN_MALFORMED', {
      message: 'header is not valid JSON',
    });
    assert.equal(decodeUnverified(tokenWith({ signature: '' })).header.kid, 'k1');
  });

  test('a signature with a non-canonical last character is not accepted as the same signature', () => {
    const key = generateKeyPair();
    const token = mintIdToken({ key, clientId: 'c1' });
    const [h, p, s] = splitToken(token);
    // A 256-byte RSA signature is 342 characters: the last one carries 4 unused bits.
    assert.equal(s.length % 4, 2);
    const last = s.charCodeAt(s.length - 1);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const twin = `${s.slice(0, -1)}${alphabet[alphabet.indexOf(String.fromCharCode(last)) + 1]}`;
    assert.deepEqual(Buffer.from(twin, 'base64url'), Buffer.from(s, 'base64url'));

    const network = noFetch();
    const verifier = new CognitoVerifier(
      { userPoolId: 'us-east-1_TestPool1', clientId: 'c1', tokenUse: 'id', jwks: buildJwks(key) },
      { fetch: network.fetch },
    );
    assert.equal(verifier.verifySync(token).aud, 'c1');
    throwsCode(() => verifier.verifySync(`${h}.${p}.${twin}`), 'ERR_TOKEN_MALFORMED', {
      message: 'signature is not canonical',
    });
    assert.deepEqual(network.urls, []);
  });
});
