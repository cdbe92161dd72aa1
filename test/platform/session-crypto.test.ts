/**
 * The platform functions the session cookies use, on both implementations side by side: the same
 * bytes from the same input, and a seal made on one opens on the other.
 */
import assert from 'node:assert/strict';
import { createHash, hkdfSync } from 'node:crypto';
import { describe, it } from 'node:test';
import * as node from '../../src/platform/node.ts';
import * as web from '../../src/platform/web.ts';

describe('session crypto on both platforms', () => {
  it('base64url text, SHA-256 and HKDF agree with node:crypto', async () => {
    for (const size of [0, 1, 2, 3, 31, 32, 33, 100]) {
      const bytes = node.randomBytes(size);
      assert.equal(web.base64urlText(bytes), Buffer.from(bytes).toString('base64url'));
      assert.equal(node.base64urlText(bytes), Buffer.from(bytes).toString('base64url'));
    }
    const data = new TextEncoder().encode('a PKCE verifier');
    const expected = createHash('sha256').update(data).digest();
    assert.deepEqual([...(await web.sha256(data))], [...expected]);
    assert.deepEqual([...node.sha256(data)], [...expected]);
    const [secret, salt, info] = ['s'.repeat(32), 'salt', 'purpose'].map((text) =>
      new TextEncoder().encode(text),
    );
    const derived = new Uint8Array(hkdfSync('sha256', secret!, salt!, info!, 32));
    assert.deepEqual([...node.hkdfSha256(secret!, salt!, info!)], [...derived]);
    assert.deepEqual([...(await web.hkdfSha256(secret!, salt!, info!))], [...derived]);
  });

  it('AES-256-GCM: a seal opens on either platform; another key, other AAD or a flipped bit do not', async () => {
    const raw = node.randomBytes(32);
    const iv = node.randomBytes(12);
    const aad = new TextEncoder().encode('session');
    const plaintext = new TextEncoder().encode('{"hello":"world"}');
    const nodeKey = node.importAesKey(raw);
    const webKey = web.importAesKey(raw);
    const sealed = node.sealAesGcm(nodeKey, iv, plaintext, aad);
    assert.deepEqual([...(await web.sealAesGcm(webKey, iv, plaintext, aad))], [...sealed]);
    assert.deepEqual([...(await web.openAesGcm(webKey, iv, sealed, aad))!], [...plaintext]);
    assert.deepEqual([...node.openAesGcm(nodeKey, iv, sealed, aad)!], [...plaintext]);
    const flipped = Uint8Array.from(sealed);
    flipped[0]! ^= 1;
    const other = node.randomBytes(32);
    for (const [key, wkey, bytes, data] of [
      [nodeKey, webKey, flipped, aad],
      [nodeKey, webKey, sealed, new TextEncoder().encode('other')],
      [node.importAesKey(other), web.importAesKey(other), sealed, aad],
      [nodeKey, webKey, sealed.subarray(0, 10), aad],
    ] as const) {
      assert.equal(node.openAesGcm(key, iv, bytes, data), undefined);
      assert.equal(await web.openAesGcm(wkey, iv, bytes, data), undefined);
    }
  });
});
