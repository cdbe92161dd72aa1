import { createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { ConfigError } from '../errors.ts';
import type { Jwk, Jwks } from '../keys/jwk.ts';
import type { TestKeyPair } from '../testing/keys.ts';
import { readJsonFile } from './input.ts';

/** Stored in every key file, for whoever opens it. */
export const KEY_FILE_NOTE =
  'PRIVATE test signing key made by `cognito-jwt keys generate`. Tokens it signs are test tokens; never publish this file.';

/**
 * The key file of `keys generate` and `mint --key`: a JWKS holding one private RSA JWK, with a note.
 *
 * ```json
 * { "note": "PRIVATE test signing key …", "keys": [{ "kty": "RSA", "kid": "…", "alg": "RS256", "use": "sig", "n": "…", "e": "AQAB", "d": "…", "p": "…", "q": "…", "dp": "…", "dq": "…", "qi": "…" }] }
 * ```
 */
export interface KeyFile extends Jwks {
  note: string;
}

/**
 * The key file for a key pair.
 *
 * ```ts
 * const file = keyFileFor(generateKeyPair());
 * ```
 */
export function keyFileFor(key: TestKeyPair): KeyFile {
  const { n: _n, e: _e, ...privateMembers } = key.privateKey.export({ format: 'jwk' });
  return { note: KEY_FILE_NOTE, keys: [{ ...key.publicJwk, ...privateMembers }] };
}

/**
 * Write a key file readable by its owner only (mode 0600). Refuses to replace a file unless `force`.
 *
 * ```ts
 * await writeKeyFile('test-key.json', generateKeyPair(), { force: false });
 * ```
 */
export async function writeKeyFile(
  path: string,
  key: TestKeyPair,
  options: { force: boolean },
): Promise<void> {
  try {
    await writeFile(path, `${JSON.stringify(keyFileFor(key), null, 2)}\n`, {
      mode: 0o600,
      flag: options.force ? 'w' : 'wx',
    });
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const reason =
      code === 'EEXIST' ? 'it exists already (use --force to replace it)' : (code ?? String(cause));
    throw new ConfigError(`cannot write the key file ${JSON.stringify(path)}: ${reason}`, { cause });
  }
}

/**
 * Read a key file written by {@link writeKeyFile} (or any JWKS whose first private key is RSA) as a
 * key pair the test kit signs with.
 *
 * ```ts
 * const key = await readKeyFile('test-key.json');
 * const token = mintAccessToken({ key, userPoolId: 'us-east-1_Example', clientId: 'my-client' });
 * ```
 */
export async function readKeyFile(path: string): Promise<TestKeyPair> {
  const content = await readJsonFile(path, 'the key file');
  const keys = (content as Partial<Jwks> | null)?.keys;
  const jwk = Array.isArray(keys) ? keys.find((item: Jwk | null) => typeof item?.d === 'string') : undefined;
  if (!jwk) {
    throw new ConfigError(
      `the key file ${JSON.stringify(path)} holds no private JWK (make one with: cognito-jwt keys generate -o FILE)`,
    );
  }
  if (jwk.kty !== 'RSA' || typeof jwk.kid !== 'string' || jwk.kid.length === 0) {
    throw new ConfigError(`the key in ${JSON.stringify(path)} must be an RSA JWK with a kid`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' });
  } catch (cause) {
    throw new ConfigError(`the key in ${JSON.stringify(path)} could not be imported`, { cause });
  }
  const publicKey = createPublicKey(privateKey);
  const { n, e } = publicKey.export({ format: 'jwk' });
  return {
    kid: jwk.kid,
    privateKey,
    publicKey,
    publicJwk: { kty: 'RSA', kid: jwk.kid, alg: 'RS256', use: 'sig', n: n!, e: e! },
  };
}
