import { type KeyObject, randomUUID, sign } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '../errors.ts';
import { checkNumber, checkOptions, optionKeys } from '../options.ts';
import { generateKeyObjects } from './key-objects.ts';

/** A key pair shaped like a load balancer's: P-256 (unless a test asks otherwise) and a UUID kid. */
export interface AlbTestKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** The public key as the key endpoint serves it: one SPKI `PUBLIC KEY` PEM block. */
  readonly publicPem: string;
}

/** The load balancer ARN test tokens name by default. */
export const DEFAULT_TEST_ALB_ARN =
  'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/test-alb/50dc6c495c0c9188';
/** The issuer test tokens name by default (a Cognito pool's). */
export const DEFAULT_TEST_ALB_ISSUER = 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TestPool1';
/** The app client test tokens name by default. */
export const DEFAULT_TEST_ALB_CLIENT_ID = 'testclient1234567890abcdef';

// The keys of the ALB test kit's options, checked at run time; the compiler keeps them complete.
const ALB_KEY_PAIR_OPTIONS = optionKeys<NonNullable<Parameters<typeof generateAlbKeyPair>[0]>>(
  'generateAlbKeyPair options',
  { kid: true, namedCurve: true },
);
const ALB_SIGNATURE_OPTIONS = optionKeys<AlbSignatureOptions>('signAlbJwt options', {
  padding: true,
  dsaEncoding: true,
});
const MINT_ALB_OPTIONS = optionKeys<MintAlbOptions>('mintAlbToken options', {
  padding: true,
  dsaEncoding: true,
  key: true,
  albArn: true,
  issuer: true,
  clientId: true,
  sub: true,
  expiresIn: true,
  now: true,
  claims: true,
  header: true,
});
const ALB_KEY_SERVER_OPTIONS = optionKeys<Parameters<typeof startAlbKeyServer>[0]>(
  'startAlbKeyServer options',
  { keys: true, headers: true },
);

/**
 * Make a load balancer key pair: EC P-256 with a random UUID kid. `namedCurve` makes a key of
 * another curve, for negative tests.
 *
 * ```ts
 * const key = generateAlbKeyPair();
 * const server = await startAlbKeyServer({ keys: [key] });
 * ```
 */
export function generateAlbKeyPair(options: { kid?: string; namedCurve?: string } = {}): AlbTestKey {
  checkOptions(ALB_KEY_PAIR_OPTIONS, options);
  const { privateKey, publicKey } = generateKeyObjects({
    type: 'ec',
    namedCurve: options.namedCurve ?? 'P-256',
  });
  return {
    kid: options.kid ?? randomUUID(),
    privateKey,
    publicKey,
    publicPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  };
}

/** How {@link signAlbJwt} writes a token; the defaults are what a load balancer writes. */
export interface AlbSignatureOptions {
  /** `=` padding on every segment, as the load balancer writes it. Default true. */
  padding?: boolean;
  /** The signature as 64-byte R‖S (`ieee-p1363`, the load balancer's) or DER. Default `ieee-p1363`. */
  dsaEncoding?: 'ieee-p1363' | 'der';
}

const encode = (bytes: Buffer, padding: boolean): string => {
  const text = bytes.toString('base64url');
  return padding ? text.padEnd(Math.ceil(text.length / 4) * 4, '=') : text;
};

/**
 * Sign any header and payload the way a load balancer does: padded base64url segments, ES256 with
 * SHA-256 over the padded text, the signature as R‖S.
 *
 * ```ts
 * const token = signAlbJwt({ alg: 'ES256', kid: key.kid }, { sub: 'abc' }, key.privateKey);
 * ```
 */
export function signAlbJwt(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  privateKey: KeyObject,
  options: AlbSignatureOptions = {},
): string {
  checkOptions(ALB_SIGNATURE_OPTIONS, options);
  const padding = options.padding ?? true;
  const input = `${encode(Buffer.from(JSON.stringify(header)), padding)}.${encode(Buffer.from(JSON.stringify(payload)), padding)}`;
  const signature = sign('sha256', Buffer.from(input), {
    key: privateKey,
    dsaEncoding: options.dsaEncoding ?? 'ieee-p1363',
  });
  return `${input}.${encode(signature, padding)}`;
}

/**
 * What a minted `x-amzn-oidc-data` token says; every field has a realistic default.
 *
 * ```ts
 * const options: MintAlbOptions = { key, sub: 'user-1', claims: { email: 'a@example.com' } };
 * ```
 */
export interface MintAlbOptions extends AlbSignatureOptions {
  key: AlbTestKey;
  /** The header's `signer`. Default {@link DEFAULT_TEST_ALB_ARN}. */
  albArn?: string;
  /** The header's (and payload's) `iss`. Default {@link DEFAULT_TEST_ALB_ISSUER}. */
  issuer?: string;
  /** The header's `client`. Default {@link DEFAULT_TEST_ALB_CLIENT_ID}. */
  clientId?: string;
  /** Default: a random UUID. */
  sub?: string;
  /** Seconds until `exp`; negative for an expired token. Default 120 (the load balancer's tokens are short). */
  expiresIn?: number;
  /** Epoch milliseconds. Default `Date.now()`. */
  now?: number;
  /** Extra payload claims, or overrides; `undefined` removes one (e.g. `{ exp: undefined }`). */
  claims?: Record<string, unknown>;
  /** Header overrides; `undefined` removes a member. */
  header?: Record<string, unknown>;
}

function withOverrides(base: Record<string, unknown>, overrides: Record<string, unknown> = {}) {
  const result: Record<string, unknown> = { ...base };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete result[name];
    else result[name] = value;
  }
  return result;
}

/**
 * Mint an `x-amzn-oidc-data` token as a load balancer in front of a Cognito pool would: the
 * security metadata in the header, the userinfo claims (with `email_verified: "true"` as a string,
 * and `exp` and `iss` repeated) in the payload.
 *
 * ```ts
 * const key = generateAlbKeyPair();
 * const data = mintAlbToken({ key, sub: 'user-1', claims: { email: 'user@example.com' } });
 * ```
 */
export function mintAlbToken(options: MintAlbOptions): string {
  if (options === undefined) throw new ConfigError('mintAlbToken needs options, at least { key }');
  checkOptions(MINT_ALB_OPTIONS, options);
  if (options.expiresIn !== undefined) checkNumber('expiresIn', options.expiresIn, { finite: true });
  if (options.now !== undefined) checkNumber('now', options.now, { finite: true });
  const exp = Math.floor((options.now ?? Date.now()) / 1000) + (options.expiresIn ?? 120);
  const iss = options.issuer ?? DEFAULT_TEST_ALB_ISSUER;
  const sub = options.sub ?? randomUUID();
  const header = withOverrides(
    {
      typ: 'JWT',
      kid: options.key.kid,
      alg: 'ES256',
      iss,
      client: options.clientId ?? DEFAULT_TEST_ALB_CLIENT_ID,
      signer: options.albArn ?? DEFAULT_TEST_ALB_ARN,
      exp,
    },
    options.header,
  );
  const payload = withOverrides(
    { sub, email_verified: 'true', email: `${sub}@example.com`, username: sub, exp, iss },
    options.claims,
  );
  const signing: AlbSignatureOptions = {};
  if (options.padding !== undefined) signing.padding = options.padding;
  if (options.dsaEncoding !== undefined) signing.dsaEncoding = options.dsaEncoding;
  return signAlbJwt(header, payload, options.key.privateKey, signing);
}

/**
 * A load balancer key endpoint on 127.0.0.1: `GET {origin}/{kid}` (or `{origin}/{anything}/{kid}`,
 * for a `keysUrl` with `{region}`) answers the PEM of that kid, 403 for an unknown one (as the
 * real endpoint's S3 does).
 */
export interface AlbKeyServer {
  readonly origin: string;
  /** The `keysUrl` to configure: `{origin}` (add `/{region}` to see the region in `paths`). */
  readonly keysUrl: string;
  /** Requests answered so far. */
  readonly requestCount: number;
  /** The path of every request, in order. */
  readonly paths: readonly string[];
  /** Serve other keys from now on. */
  setKeys(keys: readonly AlbTestKey[]): void;
  close(): Promise<void>;
}

/**
 * Start a load balancer key endpoint on a random loopback port.
 *
 * ```ts
 * const key = generateAlbKeyPair();
 * const server = await startAlbKeyServer({ keys: [key] });
 * const verifier = new AlbVerifier({ albArn: DEFAULT_TEST_ALB_ARN, issuer: null, clientId: null, keysUrl: server.keysUrl });
 * await verifier.verify(mintAlbToken({ key }));
 * await server.close();
 * ```
 */
export async function startAlbKeyServer(options: {
  keys: readonly AlbTestKey[];
  /** Extra response headers. */
  headers?: Record<string, string>;
}): Promise<AlbKeyServer> {
  if (options === undefined) throw new ConfigError('startAlbKeyServer needs { keys }');
  checkOptions(ALB_KEY_SERVER_OPTIONS, options);
  let pems = new Map<string, string>();
  const setKeys = (keys: readonly AlbTestKey[]) => {
    pems = new Map(keys.map((key) => [key.kid, key.publicPem]));
  };
  setKeys(options.keys);
  const paths: string[] = [];
  const server = createServer((request, response) => {
    const path = request.url ?? '/';
    paths.push(path);
    const kid = decodeURIComponent(path.slice(path.lastIndexOf('/') + 1));
    const pem = request.method === 'GET' ? pems.get(kid) : undefined;
    if (pem === undefined) {
      response.writeHead(403, { 'content-type': 'application/xml' });
      response.end('<Error><Code>AccessDenied</Code></Error>');
      return;
    }
    response.writeHead(200, { 'content-type': 'binary/octet-stream', ...options.headers });
    response.end(pem);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    keysUrl: origin,
    get requestCount() {
      return paths.length;
    },
    paths,
    setKeys,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
