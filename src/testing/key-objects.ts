import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';

/** The key types the test kit makes: RSA for tokens, EC for load balancer data, Ed25519 for negative tests. */
export type KeyObjectsSpec =
  | { type: 'rsa'; modulusLength: number }
  | { type: 'ec'; namedCurve: string }
  | { type: 'ed25519' };

/**
 * A new key pair, as KeyObjects that share nothing with the call that generated them.
 *
 * On Node 20, a KeyObject returned by `generateKeyPairSync` shares a lock with that call's
 * internal job. When the garbage collector frees the job while the key is being exported
 * (`export({ format: 'jwk' })` holds the lock and allocates, which can start a collection), the
 * job's destructor waits for the lock its own thread holds, and the process hangs for good. Keys
 * imported back from the generated DER bytes have locks of their own. test/testing/key-objects.test.ts
 * reproduces the hang in a child process and shows these keys do not.
 */
export function generateKeyObjects(spec: KeyObjectsSpec): { privateKey: KeyObject; publicKey: KeyObject } {
  const publicKeyEncoding = { type: 'spki', format: 'der' } as const;
  const privateKeyEncoding = { type: 'pkcs8', format: 'der' } as const;
  const der =
    spec.type === 'rsa'
      ? generateKeyPairSync('rsa', {
          modulusLength: spec.modulusLength,
          publicKeyEncoding,
          privateKeyEncoding,
        })
      : spec.type === 'ec'
        ? generateKeyPairSync('ec', { namedCurve: spec.namedCurve, publicKeyEncoding, privateKeyEncoding })
        : generateKeyPairSync('ed25519', { publicKeyEncoding, privateKeyEncoding });
  return {
    privateKey: createPrivateKey({ key: der.privateKey, format: 'der', type: 'pkcs8' }),
    publicKey: createPublicKey({ key: der.publicKey, format: 'der', type: 'spki' }),
  };
}
