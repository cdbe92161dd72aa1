/**
 * Both implementations of `#platform`, side by side in Node (which has Web Crypto too): the same
 * bytes from the same text, the same verdict on the same signature. The real runtimes are in
 * test/edge/runtimes.test.ts.
 */
import assert from 'node:assert/strict';
import { createSign, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import * as node from '../../src/platform/node.ts';
import * as web from '../../src/platform/web.ts';
import { generateKeyPair } from '../../src/testing/index.ts';
import { generateKeyObjects } from '../../src/testing/key-objects.ts';

describe('bytes', () => {
  // ASCII only: outside it Node keeps the low byte of each UTF-16 unit, and parseToken refuses
  // any character outside base64url before a decoder sees it (token/alphabet.ts).
  it('base64url and base64: the Web decoder reads every ASCII text as Buffer does (junk, padding, both alphabets)', () => {
    const text = fc.string({ unit: fc.constantFrom(...'AZaz09-_+/=. \n\t!'), maxLength: 40 });
    fc.assert(
      fc.property(text, (value) => {
        assert.deepEqual(
          [...web.base64urlBytes(value)],
          [...node.base64urlBytes(value)],
          JSON.stringify(value),
        );
        assert.deepEqual([...web.base64Bytes(value)], [...node.base64Bytes(value)], JSON.stringify(value));
      }),
      { numRuns: 2_000 },
    );
    const random = randomBytes(300);
    assert.deepEqual([...web.base64urlBytes(random.toString('base64url'))], [...random]);
  });

  it('ASCII and concatenation', () => {
    assert.deepEqual([...web.asciiBytes('ab.c-_')], [...node.asciiBytes('ab.c-_')]);
    const chunks = [Uint8Array.of(1, 2), Uint8Array.of(3), Uint8Array.of(4, 5, 6)];
    assert.deepEqual([...web.concatBytes(chunks, 6)], [...node.concatBytes(chunks, 6)]);
  });
});

describe('RS256', () => {
  const pair = generateKeyPair();
  const data = Buffer.from('header.payload', 'ascii');
  const signature = createSign('sha256').update(data).sign(pair.privateKey);
  const n = pair.publicJwk.n!;
  const e = pair.publicJwk.e!;

  it('the same verdicts: a good signature, a bad one, other data', async () => {
    const nodeKey = node.importRsaKey(n, e);
    const webKey = web.importRsaKey(n, e);
    const bad = Buffer.from(signature);
    bad[10]! ^= 1;
    for (const [bytes, sig, expected] of [
      [data, signature, true],
      [data, bad, false],
      [Buffer.from('header.other'), signature, false],
    ] as const) {
      assert.equal(node.verifyRs256Sync(bytes, sig, nodeKey), expected);
      assert.equal(await node.verifyRs256(bytes, sig, nodeKey), expected);
      assert.equal(await web.verifyRs256(bytes, sig, webKey), expected);
    }
  });

  it('the Web refuses the synchronous check with ERR_SYNC_UNSUPPORTED', () => {
    assert.throws(() => web.verifyRs256Sync(data, signature, web.importRsaKey(n, e)), {
      code: 'ERR_SYNC_UNSUPPORTED',
    });
    assert.equal(web.SYNC_SIGNATURES, false);
    assert.equal(node.SYNC_SIGNATURES, true);
  });
});

describe('ES256 (for the load balancer verifier)', () => {
  it('raw R‖S signatures verify on both, from the same SPKI bytes', async () => {
    const { sign } = await import('node:crypto');
    const { publicKey, privateKey } = generateKeyObjects({ type: 'ec', namedCurve: 'P-256' });
    const der = publicKey.export({ format: 'der', type: 'spki' });
    const data = Buffer.from('a.b');
    const signature = sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
    assert.equal(node.verifyEs256Sync(data, signature, node.importEcP256Spki(der)), true);
    assert.equal(await node.verifyEs256(data, signature, node.importEcP256Spki(der)), true);
    assert.equal(await web.verifyEs256(data, signature, web.importEcP256Spki(der)), true);
    assert.equal(await web.verifyEs256(Buffer.from('a.c'), signature, web.importEcP256Spki(der)), false);
    const rsa = generateKeyObjects({ type: 'rsa', modulusLength: 2048 }).publicKey.export({
      format: 'der',
      type: 'spki',
    });
    assert.throws(() => node.importEcP256Spki(rsa), /P-256/);
    await assert.rejects(web.verifyEs256(data, signature, web.importEcP256Spki(rsa)));
  });
});

describe('events and files', () => {
  it('a Web channel has subscribers only while someone listens', () => {
    const name = `test:${Math.random()}`;
    const channel = web.channel(name);
    assert.equal(channel.hasSubscribers, false);
    const seen: unknown[] = [];
    const listener = (message: unknown) => seen.push(message);
    web.subscribe(name, listener);
    assert.equal(channel.hasSubscribers, true);
    channel.publish({ n: 1 });
    assert.deepEqual(seen, [{ n: 1 }]);
    assert.equal(web.unsubscribe(name, listener), true);
    assert.equal(channel.hasSubscribers, false);
  });

  it('the Web has no file system: snapshot files are a ConfigError that says what to do instead', async () => {
    assert.throws(() => web.readTextFileSync('/tmp/jwks.json'), {
      code: 'ERR_CONFIG_INVALID',
      message: /snapshotStore/,
    });
    await assert.rejects(web.writeTextFileAtomic('/tmp/jwks.json', '{}'), { code: 'ERR_CONFIG_INVALID' });
  });
});
