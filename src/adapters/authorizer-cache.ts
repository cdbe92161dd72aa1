/**
 * Whether an authorizer's answers stay right when API Gateway caches them. API Gateway keys its
 * cache on the authorizer's identity sources (a TOKEN authorizer: the token alone) and replays a
 * cached answer, for the TTL, on every request with the same key, whatever its route. An answer
 * that depends on the route is then wrong somewhere else: an over-grant or a lock-out. So the
 * factories refuse, at construction, every combination whose answer could depend on more than
 * the cache key holds.
 */
import { maxAuthAgeOf, type RuleFlags, readsRequest } from '../authz/rule.ts';
import { ConfigError, describeValue } from '../errors.ts';

/**
 * How API Gateway caches a REQUEST or HTTP API authorizer's answers, as you configured it:
 *
 * - `'per-route'`: the route is one of the identity sources, so an answer is only replayed on its
 *   own route. REST API: add `context.httpMethod` and `context.resourcePath` to the identity
 *   sources. HTTP API: add `$context.routeKey`.
 * - `'off'`: no caching. REST API: TTL 0 (`authorizerResultTtlInSeconds: 0`). HTTP API:
 *   `authorizerResultTtlInSeconds: 0`.
 *
 * Required when a rule reads the request (see `readsRequest`); `'off'` is required for
 * `resource: 'method'`, whose policy names one concrete path.
 */
export type AuthorizerCache = 'per-route' | 'off';

/** Which kind of authorizer is being built, and with what. */
export interface CacheSafetyInput {
  kind: 'token' | 'request' | 'http-api';
  rules: readonly (((...args: never[]) => unknown) & RuleFlags)[];
  resource: 'api' | 'method' | undefined;
  cache: unknown;
  /** The authorizer's `cacheTtlSeconds`: API Gateway's result TTL, as configured there. */
  ttlSeconds?: unknown;
}

/** API Gateway's largest authorizer result TTL, in seconds. */
export const MAX_AUTHORIZER_TTL_SECONDS = 3600;

/**
 * Throw `ERR_CONFIG_INVALID`, with the API Gateway setting to change, when the authorizer's answers
 * could be wrong once API Gateway replays them from its cache.
 *
 * ```ts
 * checkCacheSafety({ kind: 'token', rules: [requireGroups('staff')], resource: 'api', cache: undefined }, 'createTokenAuthorizer()');
 * ```
 */
export function checkCacheSafety(input: CacheSafetyInput, where: string): void {
  const { kind, rules, resource, cache, ttlSeconds } = input;
  if (cache !== undefined && cache !== 'per-route' && cache !== 'off') {
    throw new ConfigError(`${where}: cache must be 'per-route' or 'off', got ${describeValue(cache)}`);
  }
  checkClockRules(kind, rules, cache, ttlSeconds, where);
  const reading = rules.findIndex((rule) => readsRequest(rule));
  const what =
    reading === -1
      ? ''
      : `rule ${reading} may read the event (a rule without readsRequest: false, such as requirePredicate(fn) without { readsRequest: false })`;
  if (kind === 'token') {
    if (reading !== -1) {
      throw new ConfigError(
        `${where}: ${what}, but API Gateway caches a TOKEN authorizer's answer by the token alone and replays it on every route. ` +
          'If the rule reads only the claims, declare it: requirePredicate(fn, { readsRequest: false }). ' +
          "If it depends on the route, use createRequestAuthorizer() with cache: 'per-route' (identity sources: the token header, context.httpMethod, context.resourcePath) or cache: 'off' (TTL 0).",
      );
    }
    if (resource === 'method') {
      throw new ConfigError(
        `${where}: resource: 'method' allows only the method called, but API Gateway caches a TOKEN authorizer's answer by the token alone and replays it on every route, where it would refuse. ` +
          "Keep resource: 'api' (the default), or use createRequestAuthorizer() with cache: 'off' (TTL 0).",
      );
    }
    return;
  }
  const routeSource =
    kind === 'request'
      ? 'add context.httpMethod and context.resourcePath to the identity sources'
      : 'add $context.routeKey to the identity sources';
  if (reading !== -1 && cache === undefined) {
    throw new ConfigError(
      `${where}: ${what}, and API Gateway replays a cached answer on every route with the same identity sources. ` +
        `Say how the cache is keyed: cache: 'per-route' (${routeSource}) or cache: 'off' (authorizerResultTtlInSeconds: 0). ` +
        'If the rule reads only the claims, declare it: requirePredicate(fn, { readsRequest: false }).',
    );
  }
  if (resource === 'method' && cache !== 'off') {
    throw new ConfigError(
      `${where}: resource: 'method' allows only the method ARN called, with its concrete path, and API Gateway replays a cached answer on other paths${cache === 'per-route' ? ' of the same route' : ''}, where it would refuse. ` +
        "Set cache: 'off' (authorizerResultTtlInSeconds: 0), or keep resource: 'api' (the default).",
    );
  }
}

/**
 * A rule that reads the clock (`maxAuthAge`) holds only for a window after sign-in, and API
 * Gateway replays a cached Allow for the whole TTL: the TTL must be stated and no longer than the
 * shortest window (a cached Allow then outlives the window by at most the TTL; TTL 0 makes it exact).
 */
function checkClockRules(
  kind: CacheSafetyInput['kind'],
  rules: CacheSafetyInput['rules'],
  cache: unknown,
  ttlSeconds: unknown,
  where: string,
): void {
  if (ttlSeconds !== undefined) {
    if (
      typeof ttlSeconds !== 'number' ||
      !Number.isInteger(ttlSeconds) ||
      ttlSeconds < 0 ||
      ttlSeconds > MAX_AUTHORIZER_TTL_SECONDS
    ) {
      throw new ConfigError(
        `${where}: cacheTtlSeconds must be a whole number from 0 to ${MAX_AUTHORIZER_TTL_SECONDS} (authorizerResultTtlInSeconds), got ${describeValue(ttlSeconds)}`,
      );
    }
    if (cache === 'off' && ttlSeconds > 0) {
      throw new ConfigError(`${where}: cache: 'off' means a TTL of 0, but cacheTtlSeconds is ${ttlSeconds}`);
    }
  }
  const maxAge = maxAuthAgeOf(rules);
  if (maxAge === undefined || cache === 'off') return;
  const index = rules.findIndex((rule) => rule.maxAuthAgeSeconds === maxAge);
  const what = `rule ${index} reads the clock (maxAuthAge(${maxAge})), and API Gateway replays a cached Allow for the whole TTL`;
  const off = kind === 'token' ? 'cacheTtlSeconds: 0' : "cache: 'off' or cacheTtlSeconds: 0";
  if (ttlSeconds === undefined) {
    throw new ConfigError(
      `${where}: ${what}: state the authorizer's TTL (authorizerResultTtlInSeconds) as cacheTtlSeconds, at most ${maxAge}, or ${off} (no caching)`,
    );
  }
  if ((ttlSeconds as number) > maxAge) {
    throw new ConfigError(
      `${where}: ${what}, and cacheTtlSeconds ${ttlSeconds as number} is above it: an Allow would be replayed after the sign-in is too old. ` +
        `Set authorizerResultTtlInSeconds (and cacheTtlSeconds) to at most ${maxAge}, or ${off}`,
    );
  }
}
