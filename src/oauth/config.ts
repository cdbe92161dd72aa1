import { ConfigError, describeValue } from '../errors.ts';
import { checkFunction, checkNumber, checkOptions, optionKeys } from '../options.ts';
import { checkUrl } from '../pool/url.ts';

/** How the client proves its identity when it has a secret. Cognito accepts both; Basic is its default. */
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post';

interface ClientOptionsBase {
  /** The app client id. */
  clientId: string;
  /** The app client secret; leave it out for a public client (no secret). */
  clientSecret?: string;
  /** Where the secret goes: an `Authorization: Basic` header (default) or the form body. */
  authMethod?: ClientAuthMethod;
  /** Deadline for one request, connection and whole answer included. Default 10 000 ms. */
  timeoutMs?: number;
  /** Cached client-credentials tokens are renewed this long before they expire. Default 60 s. */
  expiryMarginSeconds?: number;
  /** Replaces the global `fetch` (proxies, tests). */
  fetch?: typeof fetch;
  /** Epoch milliseconds; replaces `Date.now` (tests). */
  clock?: () => number;
}

/** Where the pool's endpoints are: its domain, or the token endpoint's full URL. */
export type TokenEndpointClientOptions = ClientOptionsBase &
  (
    | {
        /**
         * The user pool domain, `myapp.auth.us-east-1.amazoncognito.com` or a custom one
         * (`auth.example.com`); `https://` is implied. `/oauth2/token` and `/oauth2/revoke` derive from it.
         * `http://127.0.0.1:9999` is accepted for loopback hosts.
         */
        domain: string;
        tokenEndpoint?: never;
        revocationEndpoint?: never;
      }
    | {
        /** The token endpoint's full URL. */
        tokenEndpoint: string;
        /** The revocation endpoint; derived when `tokenEndpoint` ends with `/oauth2/token`. */
        revocationEndpoint?: string;
        domain?: never;
      }
  );

/** The checked form of {@link TokenEndpointClientOptions}. */
export interface ClientConfig {
  readonly tokenEndpoint: string;
  readonly revocationEndpoint: string | undefined;
  readonly clientId: string;
  /** Added to every request: the Basic header, or nothing. */
  readonly headers: Readonly<Record<string, string>>;
  /** Added to every form: `client_id`, and `client_secret` for `client_secret_post`. */
  readonly formFields: Readonly<Record<string, string>>;
  readonly confidential: boolean;
  readonly timeoutMs: number;
  readonly marginMs: number;
  readonly fetch: typeof fetch;
  readonly clock: () => number;
}

/**
 * The keys of {@link TokenEndpointClientOptions}, checked at run time; the compiler keeps the list
 * complete (both forms: `domain`, or `tokenEndpoint` with `revocationEndpoint`).
 */
const CLIENT_OPTIONS = optionKeys<TokenEndpointClientOptions>(
  'TokenEndpointClient options',
  {
    clientId: true,
    clientSecret: true,
    authMethod: true,
    timeoutMs: true,
    expiryMarginSeconds: true,
    fetch: true,
    clock: true,
    domain: true,
    tokenEndpoint: true,
    revocationEndpoint: true,
  },
  {
    userPoolId:
      'the client talks to the user pool domain: set domain (myapp.auth.us-east-1.amazoncognito.com)',
    scopes: 'scopes are asked for per grant: client.clientCredentials({ scopes })',
    revocationList:
      'pass it per call, client.revoke(token, { revocationList, originJti }), or to a TokenSession',
  },
);

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_EXPIRY_MARGIN_SECONDS = 60;

/** Check the options of a token endpoint client; every mistake is a {@link ConfigError}. */
export function resolveClientConfig(options: TokenEndpointClientOptions): ClientConfig {
  if (options === undefined) throw new ConfigError('a TokenEndpointClient needs its options');
  checkOptions(CLIENT_OPTIONS, options);
  const { clientId, clientSecret, authMethod } = options;
  if (typeof clientId !== 'string' || clientId.length === 0) {
    throw new ConfigError(`clientId must be a non-empty string, got ${describeValue(clientId)}`);
  }
  if (clientSecret !== undefined && (typeof clientSecret !== 'string' || clientSecret.length === 0)) {
    throw new ConfigError(`clientSecret must be a non-empty string when given, got ${typeof clientSecret}`);
  }
  if (
    authMethod !== undefined &&
    authMethod !== 'client_secret_basic' &&
    authMethod !== 'client_secret_post'
  ) {
    throw new ConfigError(
      `authMethod must be 'client_secret_basic' or 'client_secret_post', got ${describeValue(authMethod)}`,
    );
  }
  if (authMethod !== undefined && clientSecret === undefined) {
    throw new ConfigError(
      `authMethod ${authMethod} needs a clientSecret; a public client sends only its client_id`,
    );
  }
  if (options.fetch !== undefined) checkFunction('fetch', options.fetch);
  if (options.clock !== undefined) checkFunction('clock', options.clock);

  const { tokenEndpoint, revocationEndpoint } = resolveEndpoints(options);
  const headers: Record<string, string> = {};
  const formFields: Record<string, string> = { client_id: clientId };
  if (clientSecret !== undefined && authMethod === 'client_secret_post') {
    formFields.client_secret = clientSecret;
  } else if (clientSecret !== undefined) {
    headers.authorization = `Basic ${Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`).toString('base64')}`;
  }
  return {
    tokenEndpoint,
    revocationEndpoint,
    clientId,
    headers,
    formFields,
    confidential: clientSecret !== undefined,
    timeoutMs: positive('timeoutMs', options.timeoutMs, DEFAULT_TIMEOUT_MS, 1),
    marginMs:
      positive('expiryMarginSeconds', options.expiryMarginSeconds, DEFAULT_EXPIRY_MARGIN_SECONDS, 0) * 1000,
    fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    clock: options.clock ?? Date.now,
  };
}

/** A margin or timeout option: a finite number ≥ `min`, or the default. */
export function positive(name: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  return checkNumber(name, value, { min, finite: true });
}

// RFC 6749 §2.3.1: id and secret are form-encoded before they are joined and base64-encoded.
function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

function resolveEndpoints(options: TokenEndpointClientOptions): {
  tokenEndpoint: string;
  revocationEndpoint: string | undefined;
} {
  const { domain, tokenEndpoint, revocationEndpoint } = options;
  if ((domain === undefined) === (tokenEndpoint === undefined)) {
    throw new ConfigError('give exactly one of domain (the user pool domain) and tokenEndpoint (a full URL)');
  }
  if (domain !== undefined) {
    if (revocationEndpoint !== undefined) {
      throw new ConfigError(
        'revocationEndpoint goes with tokenEndpoint; with a domain it is {domain}/oauth2/revoke',
      );
    }
    const origin = domainOrigin(domain);
    return { tokenEndpoint: `${origin}/oauth2/token`, revocationEndpoint: `${origin}/oauth2/revoke` };
  }
  const token = new URL(checkUrl('tokenEndpoint', tokenEndpoint));
  if (token.hash) throw new ConfigError('tokenEndpoint must not have a #fragment');
  if (revocationEndpoint !== undefined) {
    return {
      tokenEndpoint: token.href,
      revocationEndpoint: new URL(checkUrl('revocationEndpoint', revocationEndpoint)).href,
    };
  }
  const derived = token.pathname.endsWith('/oauth2/token')
    ? new URL(token.pathname.replace(/\/oauth2\/token$/, '/oauth2/revoke'), token).href
    : undefined;
  return { tokenEndpoint: token.href, revocationEndpoint: derived };
}

function domainOrigin(domain: unknown): string {
  if (typeof domain !== 'string' || domain.length === 0) {
    throw new ConfigError(`domain must be a non-empty string, got ${describeValue(domain)}`);
  }
  const url = new URL(checkUrl('domain', domain.includes('://') ? domain : `https://${domain}`));
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    throw new ConfigError(
      `domain must be a host name such as myapp.auth.us-east-1.amazoncognito.com, without a path; got ${describeValue(domain)}`,
    );
  }
  if (url.hostname.startsWith('cognito-idp.')) {
    throw new ConfigError(
      `domain ${describeValue(domain)} is the pool's issuer host; the token endpoint lives on the user pool domain ` +
        '(myapp.auth.{region}.amazoncognito.com, or your custom domain)',
    );
  }
  if (!url.hostname.includes('.') && url.hostname !== 'localhost' && url.hostname !== '[::1]') {
    throw new ConfigError(
      `domain must be a full host name such as myapp.auth.us-east-1.amazoncognito.com, got ${describeValue(domain)}`,
    );
  }
  return url.origin;
}
