import { type KeyObject, randomBytes } from 'node:crypto';
import { ConfigError } from '../errors.ts';
import type { Jwk, Jwks } from '../keys/jwk.ts';
import { checkNumber, checkOptions, optionKeys, typeName } from '../options.ts';
import { generateKeyObjects } from './key-objects.ts';

/** An RSA key pair for signing test tokens, with its public JWK. */
export interface TestKeyPair {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** The public key as Cognito publishes it: `{ kty, kid, alg: 'RS256', use: 'sig', n, e }`. */
  readonly publicJwk: Jwk;
}

/** Options of {@link generateKeyPair}. */
export interface KeyPairOptions {
  /** Default: random, shaped like Cognito's. */
  kid?: string;
  /** Default 2048 (Cognito's); a smaller key tests that the verifier refuses it. */
  modulusLength?: number;
}

const KEY_PAIR_OPTIONS = optionKeys<KeyPairOptions>(
  'generateKeyPair options',
  { kid: true, modulusLength: true },
  { alg: 'test key pairs are RSA for RS256', bits: 'the size is modulusLength' },
);

/**
 * Make an RSA key pair (2048 bits by default, like Cognito's). The kid is random base64 with
 * `+`, `/` and `=`, shaped like Cognito's, unless you pass one.
 *
 * ```ts
 * const key = generateKeyPair();
 * const token = mintAccessToken({ key, userPoolId: 'us-east-1_Example', clientId: 'my-client' });
 * ```
 */
export function generateKeyPair(options: KeyPairOptions = {}): TestKeyPair {
  checkOptions(KEY_PAIR_OPTIONS, options);
  if (options.kid !== undefined && typeof options.kid !== 'string') {
    throw new ConfigError(`kid must be a string, got ${typeName(options.kid)}`);
  }
  if (options.modulusLength !== undefined) {
    checkNumber('modulusLength', options.modulusLength, { integer: true, min: 512 });
  }
  const { privateKey, publicKey } = generateKeyObjects({
    type: 'rsa',
    modulusLength: options.modulusLength ?? 2048,
  });
  const kid = options.kid ?? randomBytes(32).toString('base64');
  const { n, e } = publicKey.export({ format: 'jwk' });
  return {
    kid,
    privateKey,
    publicKey,
    publicJwk: { kty: 'RSA', kid, alg: 'RS256', use: 'sig', n: n!, e: e! },
  };
}

/** The JWKS a pool with these keys would publish. */
export function buildJwks(...keys: TestKeyPair[]): Jwks {
  return { keys: keys.map((key) => ({ ...key.publicJwk })) };
}
