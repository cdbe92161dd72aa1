import { CognitoJwtError, ConfigError, ScopeMissingError } from '../errors.ts';
import { checkBoolean, checkOptions, optionKeys, stringList, typeName } from '../options.ts';
import type { CognitoClaims } from '../token/claims.ts';
import { checkGroups, checkScopes } from '../verify/claims.ts';
import { groupsOf, scopesOf } from './rights.ts';
import { type AuthzRule, type ClaimsRule, declareRule } from './rule.ts';

/** `'any'`: at least one of the listed groups or scopes (the default); `'all'`: every one of them. */
export type Match = 'any' | 'all';

export interface RequireOptions {
  /** Default `'any'`. */
  match?: Match;
}

/** Group names and scopes never contain whitespace; a space means two names were written as one. */
function nameList(name: string, value: unknown): string[] {
  const list = stringList(name, value);
  const spaced = list.find((item) => /\s/.test(item));
  if (spaced !== undefined) {
    throw new ConfigError(
      `${name}: ${JSON.stringify(spaced)} contains whitespace; list each name separately`,
    );
  }
  return list;
}

// Checked at run time too: a misspelt `mtach: 'all'` would quietly keep the looser 'any'.
const REQUIRE_OPTIONS = /* @__PURE__ */ optionKeys<RequireOptions>(
  'requireGroups() / requireScopes() options',
  { match: true },
  {
    groups: "the groups are the first argument: requireGroups(['a', 'b'], { match: 'all' })",
    scopes: "the scopes are the first argument: requireScopes(['a/read', 'a/write'], { match: 'all' })",
  },
);

function matchOf(where: string, options: RequireOptions): Match {
  checkOptions({ ...REQUIRE_OPTIONS, what: `${where} options` }, options);
  const match = options.match ?? 'any';
  if (match !== 'any' && match !== 'all') {
    throw new ConfigError(`${where}: match must be 'any' or 'all', got ${JSON.stringify(match)}`);
  }
  return match;
}

function requireEvery(
  kind: 'groups' | 'scopes',
  granted: readonly string[],
  wanted: readonly string[],
): void {
  const missing = wanted.filter((item) => !granted.includes(item));
  if (missing.length === 0) return;
  const message =
    `token lacks the required ${kind} ${missing.join(', ')} (all of ${wanted.join(', ')} are required); ` +
    `its ${kind}: ${granted.length ? granted.join(', ') : 'none'}`;
  if (kind === 'scopes') throw new ScopeMissingError(message, wanted, granted);
  throw new CognitoJwtError('ERR_GROUP_MISSING', message, { claim: 'cognito:groups' });
}

/**
 * A rule: the token must be in one of these `cognito:groups` (or in all of them with
 * `{ match: 'all' }`). Fails with `ERR_GROUP_MISSING` (403) naming the missing groups.
 *
 * ```ts
 * const admins = requireGroups('admins');
 * const both = requireGroups(['editors', 'reviewers'], { match: 'all' });
 * await authorize(claims, [admins]);
 * ```
 */
export function requireGroups(groups: string | readonly string[], options: RequireOptions = {}): ClaimsRule {
  const wanted = nameList('requireGroups()', groups);
  const rule: ClaimsRule =
    matchOf('requireGroups()', options) === 'any'
      ? (claims) => checkGroups(groupsOf(claims), wanted)
      : (claims) => requireEvery('groups', groupsOf(claims), wanted);
  return declareRule(rule, { readsRequest: false });
}

/**
 * A rule: the access token's `scope` must hold one of these scopes (or all of them with
 * `{ match: 'all' }`). Fails with `ERR_SCOPE_MISSING` (403) naming the missing scopes; an ID
 * token has no scopes, so it always fails.
 *
 * ```ts
 * const readOrders = requireScopes('orders/read');
 * const readAndWrite = requireScopes(['orders/read', 'orders/write'], { match: 'all' });
 * ```
 */
export function requireScopes(scopes: string | readonly string[], options: RequireOptions = {}): ClaimsRule {
  const wanted = nameList('requireScopes()', scopes);
  const rule: ClaimsRule =
    matchOf('requireScopes()', options) === 'any'
      ? (claims) => checkScopes(scopesOf(claims).join(' '), wanted)
      : (claims) => requireEvery('scopes', scopesOf(claims), wanted);
  return declareRule(rule, { readsRequest: false });
}

/** A yes/no question about verified claims and the request (or event) they came with. */
export type ClaimsPredicate<Claims extends CognitoClaims = CognitoClaims, Context = unknown> = (
  claims: Claims,
  context: Context,
) => boolean | Promise<boolean>;

/** Options of {@link requirePredicate}. */
export interface PredicateOptions {
  /** Named in the refusal's detail. Default: the predicate's function name. */
  description?: string;
  /**
   * `false` declares that the predicate reads only the claims, never its second argument, so its
   * answer holds for every route. Without it the rule counts as reading the request: a Lambda
   * TOKEN authorizer refuses it, and a REQUEST or HTTP API authorizer asks how its cache is keyed.
   */
  readsRequest?: boolean;
}

/**
 * A rule from a predicate, for attribute-based checks. Only `true` allows: a predicate that
 * returns anything else (including a forgotten `return`) refuses with `ERR_FORBIDDEN` (403).
 * An error thrown by the predicate propagates unchanged. The second argument is a description,
 * or {@link PredicateOptions}.
 *
 * ```ts
 * // The caller may only read their own profile: GET /users/:userId
 * const ownProfile = requirePredicate((claims, req: Request) => claims.sub === req.params.userId, 'own profile');
 * // Claims only: say so, and the rule may run in any authorizer, cached or not.
 * const verified = requirePredicate((claims) => claims.email_verified === true, { readsRequest: false });
 * ```
 */
export function requirePredicate<Claims extends CognitoClaims = CognitoClaims, Context = unknown>(
  predicate: ClaimsPredicate<Claims, Context>,
  options: string | PredicateOptions = {},
): AuthzRule<Claims, Context> {
  if (typeof predicate !== 'function') throw new ConfigError('requirePredicate() needs a function');
  const { description = predicate.name, readsRequest } =
    typeof options === 'string' ? { description: options } : checkPredicateOptions(options);
  const what = description ? `the rule "${description}"` : 'a custom rule';
  const rule: AuthzRule<Claims, Context> = async (claims, context) => {
    if ((await predicate(claims, context)) !== true) {
      throw new CognitoJwtError('ERR_FORBIDDEN', `${what} does not allow this token`);
    }
  };
  return readsRequest === undefined ? rule : declareRule(rule, { readsRequest });
}

function checkPredicateOptions(options: unknown): PredicateOptions {
  checkOptions(PREDICATE_OPTIONS, options);
  const { description, readsRequest } = (options ?? {}) as PredicateOptions;
  if (description !== undefined && typeof description !== 'string') {
    throw new ConfigError(`requirePredicate(): description must be a string, got ${typeName(description)}`);
  }
  if (readsRequest !== undefined) checkBoolean('requirePredicate(): readsRequest', readsRequest);
  return {
    ...(description === undefined ? {} : { description }),
    ...(readsRequest === undefined ? {} : { readsRequest }),
  };
}

const PREDICATE_OPTIONS = /* @__PURE__ */ optionKeys<PredicateOptions>('requirePredicate() options', {
  description: true,
  readsRequest: true,
});
