/**
 * A user pool on loopback for the tests of one file (or one `describe`): a key made now, a JWKS
 * server that serves it (started before the tests, closed after them), the verifier config for the
 * pool's access tokens, and tokens minted for it. The preamble every door test used to repeat.
 */
import { after, before } from 'node:test';
import {
  buildJwks,
  generateKeyPair,
  type JwksServer,
  type MintOptions,
  mintAccessToken,
  mintIdToken,
  startJwksServer,
  type TestKeyPair,
} from '../../src/testing/index.ts';
import type { VerifierConfig } from '../../src/verify/config.ts';

export interface LoopbackPool {
  readonly userPoolId: string;
  readonly clientId: string;
  readonly key: TestKeyPair;
  /** Usable once the `before` hook has run (inside tests and later hooks). */
  readonly jwks: JwksServer;
  readonly issuer: string;
  /** A fresh config for the pool's access tokens and its client (with the key as a snapshot when asked). */
  readonly config: VerifierConfig;
  /** An access token for the pool's client; `options` override the defaults. */
  mint(options?: Partial<MintOptions>): string;
  /** An ID token for the pool's client. */
  mintId(options?: Partial<MintOptions>): string;
}

export interface LoopbackPoolOptions {
  /** The `username` of minted tokens, unless a call sets one. */
  username?: string;
  /** Give `config` the key as a `jwks` snapshot (what `cognito-jwt keys fetch` writes at deploy time). */
  snapshot?: boolean;
}

/** Register the hooks that start and stop the pool's JWKS server, and return the pool. */
export function loopbackPool(
  userPoolId: string,
  clientId: string,
  options: LoopbackPoolOptions = {},
): LoopbackPool {
  const key = generateKeyPair();
  let server: JwksServer | undefined;
  before(async () => {
    server = await startJwksServer({ keys: [key] });
  });
  after(() => server?.close());
  const running = (): JwksServer => {
    if (server === undefined) throw new Error('loopbackPool(): its JWKS server starts in a before() hook');
    return server;
  };
  const defaults = (): MintOptions => ({
    key,
    issuer: running().issuer(userPoolId),
    clientId,
    ...(options.username === undefined ? {} : { username: options.username }),
  });
  return {
    userPoolId,
    clientId,
    key,
    get jwks() {
      return running();
    },
    get issuer() {
      return running().issuer(userPoolId);
    },
    get config(): VerifierConfig {
      return {
        userPoolId,
        issuer: running().issuer(userPoolId),
        clientId,
        tokenUse: 'access',
        ...(options.snapshot ? { jwks: buildJwks(key) } : {}),
      };
    },
    mint: (overrides = {}) => mintAccessToken({ ...defaults(), ...overrides }),
    mintId: (overrides = {}) => mintIdToken({ ...defaults(), ...overrides }),
  };
}
