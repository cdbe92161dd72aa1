/**
 * The AppSync Lambda authorizer (`AWS_LAMBDA` authorization mode). AppSync caches an answer by the
 * `authorizationToken` alone, for `ttlOverride` seconds, and replays it on every operation of the
 * API; so a rule that reads the operation or its variables needs `ttlSeconds: 0`, and the factory
 * refuses any other combination when it is created.
 */
import type { AppSyncAuthorizerEvent, AppSyncAuthorizerResult } from 'aws-lambda';
import { type AuthzRule, maxAuthAgeOf, readsRequest } from '../authz/rule.ts';
import { ConfigError } from '../errors.ts';
import { checkNumber, checkOptions, optionKeys } from '../options.ts';
import type { CognitoClaims } from '../token/claims.ts';
import { factsOf } from '../verify/facts.ts';
import { type CallerIdentity, checkDoorParts, checkFlatContext, decide, identityOf } from './door.ts';
import { BELONGS_TO_VERIFIER, bearerToken, toVerifier, type VerifierInput } from './http.ts';

export type { AppSyncAuthorizerEvent, AppSyncAuthorizerResult } from 'aws-lambda';

/** A flat `resolverContext` value: AppSync takes key-value pairs only, no nested objects. */
export type ResolverContextValue = string | number | boolean;

/**
 * The `resolverContext` an allowing answer carries (`$ctx.identity.resolverContext` in resolvers):
 * the caller's identity as strings, like the API Gateway authorizers' context. `groups` and
 * `scope` are space-separated; absent values are empty strings.
 */
export interface AppSyncResolverContext extends CallerIdentity {
  [extra: string]: ResolverContextValue;
}

/** Options of {@link createAppSyncAuthorizer}. */
export interface AppSyncAuthorizerOptions {
  /** A `CognitoVerifier` or its config. Create the authorizer at module scope: one verifier per container. */
  verifier: VerifierInput<CognitoClaims>;
  /** Rules over the claims (and the event); a refusal is `isAuthorized: false`. */
  rules?: readonly AuthzRule<CognitoClaims, AppSyncAuthorizerEvent>[];
  /**
   * The `ttlOverride` of an allowing answer, in seconds (0 to 3600; default 300): how long AppSync
   * replays it for the same token on every operation. It is never longer than the token has left
   * to live, nor, with a `maxAuthAge(seconds)` rule, than the sign-in stays fresh enough for it.
   * Must be 0 when a rule reads the event (one without `readsRequest: false`).
   */
  ttlSeconds?: number;
  /** More `resolverContext` entries (strings, numbers, booleans); the standard ones win over them. */
  resolverContext?: (claims: CognitoClaims) => Record<string, ResolverContextValue>;
  /**
   * Fields AppSync sets to `null` for this caller: `Type.field`, or the field's full ARN when one
   * authorizer serves several APIs. Decided from the claims alone (the answer is cached by token).
   */
  deniedFields?: (claims: CognitoClaims) => readonly string[];
  /** Told of every refusal and failure (AppSync shows the client none of it): log here. Must not throw. */
  onError?: (error: unknown, event: AppSyncAuthorizerEvent) => void;
  /** Epoch milliseconds, for the token's remaining lifetime; replaces `Date.now` (tests). Give the verifier the same clock. */
  clock?: () => number;
}

/** What AppSync caches at most: one hour. */
export const MAX_APPSYNC_TTL_SECONDS = 3_600;
/** AppSync refuses larger `resolverContext` objects (5 MB, counted here as UTF-16 code units of the JSON). */
export const MAX_RESOLVER_CONTEXT_LENGTH = 5 * 1024 * 1024;
/** AppSync is reported to refuse `authorizationToken` values longer than this, before calling the authorizer. */
export const APPSYNC_MAX_TOKEN_LENGTH = 2_048;

const APPSYNC_OPTIONS = optionKeys<AppSyncAuthorizerOptions>(
  'createAppSyncAuthorizer() options',
  {
    verifier: true,
    rules: true,
    ttlSeconds: true,
    resolverContext: true,
    deniedFields: true,
    onError: true,
    clock: true,
  },
  {
    ...BELONGS_TO_VERIFIER,
    cache: 'AppSync caches by the token alone; say how long with ttlSeconds (0 turns caching off)',
    context: 'AppSync calls it resolverContext',
    ttlOverride: 'set ttlSeconds: every answer carries it as ttlOverride',
    getToken: 'AppSync passes the token as authorizationToken; there is nowhere else to read it',
  },
);

/** A shape AppSync rejects, refused here so that the answer AppSync sees is always well-formed. */
function checkResolverContext(context: Record<string, unknown>): void {
  checkFlatContext(context, 'resolverContext');
  if (JSON.stringify(context).length > MAX_RESOLVER_CONTEXT_LENGTH) {
    throw new ConfigError('the resolverContext is larger than the 5 MB AppSync accepts');
  }
}

/**
 * How long an Allow for `claims` stays true, in whole seconds from `now`: until the token expires
 * and, with a `maxAuthAge` rule, until the sign-in is older than the rule admits (with the
 * verifier's clock tolerance, as the rule itself counts).
 */
function secondsLeft(claims: CognitoClaims, maxAge: number | undefined, now: number): number {
  const untilExpiry = claims.exp - now;
  if (maxAge === undefined) return Math.floor(untilExpiry);
  // Without auth_time the Allow came through another branch of anyOf(): cache nothing.
  if (typeof claims.auth_time !== 'number') return 0;
  const fresh = claims.auth_time + maxAge + factsOf(claims).toleranceSeconds - now;
  return Math.floor(Math.min(untilExpiry, fresh));
}

/**
 * An AppSync Lambda authorizer. Verifies `authorizationToken` (with or without `Bearer `), runs the
 * rules and answers `{ isAuthorized, resolverContext, deniedFields, ttlOverride }`. Every answer
 * carries `ttlOverride`: an allowing one the configured TTL, cut to the seconds the token has left
 * and, with a `maxAuthAge` rule, to the seconds until the sign-in is too old for it (a replayed
 * answer never outlives the token or the step-up window); a refusing one `0`, so a token refused while keys
 * could not be fetched, or before its `nbf`, is asked about again. A refusal carries no detail:
 * `onError` gets it.
 *
 * AppSync is reported to refuse tokens over 2 048 characters before calling the authorizer: ID
 * tokens with many groups or custom claims can exceed it; access tokens rarely do.
 *
 * ```ts
 * import { requireGroups } from 'cognito-jwt';
 * import { createAppSyncAuthorizer } from 'cognito-jwt/lambda';
 *
 * export const handler = createAppSyncAuthorizer({
 *   verifier: { userPoolId: 'eu-west-1_AbC123', clientId: 'app-client-id', tokenUse: 'access' },
 *   rules: [requireGroups('staff')],
 *   ttlSeconds: 300,
 *   deniedFields: (claims) => (claims['cognito:groups']?.includes('payroll') ? [] : ['Employee.salary']),
 * });
 * ```
 */
export function createAppSyncAuthorizer(
  options: AppSyncAuthorizerOptions,
): (event: AppSyncAuthorizerEvent) => Promise<AppSyncAuthorizerResult<AppSyncResolverContext>> {
  const where = 'createAppSyncAuthorizer()';
  if (options === undefined) throw new ConfigError(`${where} needs an options object`);
  checkOptions(APPSYNC_OPTIONS, options);
  const rules = checkDoorParts(where, options.rules, {
    resolverContext: options.resolverContext,
    deniedFields: options.deniedFields,
    onError: options.onError,
    clock: options.clock,
  }) as readonly AuthzRule<CognitoClaims, AppSyncAuthorizerEvent>[];
  const ttl = checkNumber(`${where}: ttlSeconds`, options.ttlSeconds ?? 300, {
    min: 0,
    max: MAX_APPSYNC_TTL_SECONDS,
    integer: true,
  });
  const reading = rules.findIndex((rule) => readsRequest(rule));
  if (reading !== -1 && ttl !== 0) {
    throw new ConfigError(
      `${where}: rule ${reading} may read the event (a rule without readsRequest: false), but AppSync caches an answer by the token alone ` +
        `and replays it for ${ttl} s on every operation. Set ttlSeconds: 0 (AppSync then asks for every request), ` +
        'or, if the rule reads only the claims, declare it: requirePredicate(fn, { readsRequest: false }).',
    );
  }
  const verifier = toVerifier(options.verifier, where);
  const clock = options.clock ?? Date.now;
  const maxAge = maxAuthAgeOf(rules);
  return async (event) => {
    const decision = await decide(
      verifier,
      rules,
      () => bearerToken(event?.authorizationToken, { allowBareToken: true }),
      event,
      options.onError,
    );
    if (!decision.allowed) return { isAuthorized: false, ttlOverride: 0 };
    const { claims } = decision;
    const extra = options.resolverContext?.(claims) ?? {};
    const resolverContext = { ...extra, ...identityOf(claims) };
    checkResolverContext(resolverContext);
    const denied = options.deniedFields?.(claims) ?? [];
    if (!Array.isArray(denied) || !denied.every((field) => typeof field === 'string' && field !== '')) {
      throw new ConfigError(`${where}: deniedFields must return an array of field names`);
    }
    return {
      isAuthorized: true,
      resolverContext,
      deniedFields: [...denied],
      ttlOverride: Math.max(0, Math.min(ttl, secondsLeft(claims, maxAge, clock() / 1000))),
    };
  };
}
