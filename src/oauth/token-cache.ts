/** A client-credentials access token, as handed out by the cache. */
export interface ClientCredentialsToken {
  /** Send it as `Authorization: Bearer {accessToken}`. */
  readonly accessToken: string;
  /** `Bearer` for Cognito. */
  readonly tokenType: string;
  /** Local time of expiry: when it was requested plus the shorter of `expires_in` and the JWT's `exp - iat`. */
  readonly expiresAt: Date;
  /** The scopes granted, as the endpoint reported them (space-separated). */
  readonly scope: string | undefined;
}

/** A freshly issued token and when it should be replaced (epoch ms). */
export interface IssuedToken {
  readonly token: ClientCredentialsToken;
  readonly renewAt: number;
}

interface Entry {
  token: ClientCredentialsToken | undefined;
  renewAt: number;
  inFlight: Promise<ClientCredentialsToken> | undefined;
}

/**
 * Client-credentials tokens by scope set. A token is reused until its renewal time; concurrent
 * callers that find none share one request; a failure is not cached, so the next call retries.
 */
export class ClientCredentialsCache {
  readonly #issue: (scopes: readonly string[]) => Promise<IssuedToken>;
  readonly #clock: () => number;
  readonly #entries = new Map<string, Entry>();

  constructor(issue: (scopes: readonly string[]) => Promise<IssuedToken>, clock: () => number) {
    this.#issue = issue;
    this.#clock = clock;
  }

  /** `scopes` must be normalised (sorted, no duplicates): they are the cache key. */
  get(scopes: readonly string[], forceRenewal: boolean): Promise<ClientCredentialsToken> {
    const key = scopes.join(' ');
    let entry = this.#entries.get(key);
    if (!entry) {
      entry = { token: undefined, renewAt: 0, inFlight: undefined };
      this.#entries.set(key, entry);
    }
    if (entry.inFlight) return entry.inFlight;
    if (!forceRenewal && entry.token && this.#clock() < entry.renewAt) return Promise.resolve(entry.token);
    const current = entry;
    const renewal = this.#issue(scopes)
      .then(({ token, renewAt }) => {
        current.token = token;
        current.renewAt = renewAt;
        return token;
      })
      .finally(() => {
        current.inFlight = undefined;
      });
    current.inFlight = renewal;
    return renewal;
  }

  /** Forget every cached token (the next call fetches). */
  clear(): void {
    this.#entries.clear();
  }
}
