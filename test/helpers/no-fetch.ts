/** A `fetch` that refuses every request and remembers the URLs it was asked for. */
export interface NoFetch {
  readonly fetch: typeof fetch;
  readonly urls: readonly string[];
}

/**
 * A `fetch` for verifiers that must not touch the network (keys come from a snapshot): every call
 * is recorded and rejected, so a test can assert `urls.length === 0`.
 *
 * ```ts
 * const network = noFetch();
 * const verifier = new CognitoVerifier({ ...config, jwks }, { fetch: network.fetch });
 * assert.deepEqual(network.urls, []);
 * ```
 */
export function noFetch(): NoFetch {
  const urls: string[] = [];
  return {
    urls,
    fetch: (input) => {
      urls.push(input instanceof Request ? input.url : String(input));
      return Promise.reject(new Error('this test allows no network request'));
    },
  };
}
