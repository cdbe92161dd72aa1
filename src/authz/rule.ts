import { CognitoJwtError, ConfigError } from '../errors.ts';
import type { CognitoClaims } from '../token/claims.ts';

/**
 * What a rule says about itself. `readsRequest: false` declares that the rule decides from the
 * claims alone, so its answer holds for every route; a rule without the flag (or with `true`) is
 * taken to read the request or event, the safe assumption. Lambda authorizers use it because API
 * Gateway replays a cached answer on other routes. `requireGroups`, `requireScopes` and role
 * rules declare `false`; `requirePredicate` declares what you tell it.
 */
export interface RuleFlags {
  readonly readsRequest?: boolean;
}

/**
 * One authorization check over claims that were already verified. It returns (or resolves) when
 * the claims are allowed and throws a 403 {@link CognitoJwtError} (`ERR_GROUP_MISSING`,
 * `ERR_SCOPE_MISSING`, `ERR_FORBIDDEN`) when they are not. `context` is whatever the caller
 * passes along: the request in a framework adapter, the event in a Lambda authorizer.
 *
 * ```ts
 * const sameTenant: AuthzRule<CognitoClaims, Request> = (claims, req) => {
 *   if (claims['custom:tenant'] !== req.params.tenant) throw new CognitoJwtError('ERR_FORBIDDEN', 'another tenant');
 * };
 * ```
 */
export type AuthzRule<Claims extends CognitoClaims = CognitoClaims, Context = unknown> = ((
  claims: Claims,
  context: Context,
) => void | Promise<void>) &
  RuleFlags;

/**
 * A rule that looks at the claims only (groups, scopes, roles). It fits wherever an
 * {@link AuthzRule} is expected, whatever the context, and leaves the context type of a
 * neighbouring predicate to be inferred from where the rules are used.
 *
 * ```ts
 * const staffOnly: ClaimsRule = requireGroups('staff');
 * ```
 */
export type ClaimsRule = ((claims: CognitoClaims) => void | Promise<void>) & RuleFlags;

/**
 * Whether a rule may read the request (or event): `true` unless it declares `readsRequest: false`.
 *
 * ```ts
 * readsRequest(requireGroups('admins')); // false
 * readsRequest(requirePredicate((claims, req: Request) => req.method === 'GET')); // true
 * ```
 */
export function readsRequest(rule: ((...args: never[]) => unknown) & RuleFlags): boolean {
  return rule.readsRequest !== false;
}

/**
 * `rule` with its {@link RuleFlags} set (the function itself, flagged and frozen), for rules
 * written by hand: `declareRule((claims) => { ... }, { readsRequest: false })`.
 *
 * ```ts
 * const verifiedEmail = declareRule((claims) => {
 *   if (claims.email_verified !== true) throw new CognitoJwtError('ERR_FORBIDDEN', 'email not verified');
 * }, { readsRequest: false });
 * ```
 */
export function declareRule<Rule extends (...args: never[]) => unknown>(
  rule: Rule,
  flags: { readsRequest: boolean },
): Rule & { readonly readsRequest: boolean } {
  if (typeof rule !== 'function') throw new ConfigError('declareRule() needs a function');
  if (typeof flags !== 'object' || flags === null || typeof flags.readsRequest !== 'boolean') {
    throw new ConfigError('declareRule() needs { readsRequest: true } or { readsRequest: false }');
  }
  Object.defineProperty(rule, 'readsRequest', { value: flags.readsRequest, enumerable: true });
  return Object.freeze(rule) as Rule & { readonly readsRequest: boolean };
}

/**
 * Throw a {@link ConfigError} unless every item is a rule (a function); adapters call it when a
 * guard is created, so a mistake shows at start-up rather than on the first request.
 *
 * ```ts
 * checkRules([requireGroups('admins')], 'authorize()');
 * ```
 */
export function checkRules(rules: readonly unknown[], where: string): void {
  const index = rules.findIndex((rule) => typeof rule !== 'function');
  if (index !== -1) {
    throw new ConfigError(
      `${where}: rule ${index} is ${typeof rules[index]}, not a rule; build rules with requireGroups, requireScopes, requirePredicate or a role map`,
    );
  }
}

/**
 * Run rules in order over verified claims; every rule must pass. Rejects with the first
 * failure (a 403 {@link CognitoJwtError}, or whatever a custom rule threw).
 *
 * ```ts
 * const claims = await verifier.verify(token);
 * await authorize(claims, [requireGroups('admins'), requireScopes('orders/write')]);
 * ```
 */
export async function authorize<Claims extends CognitoClaims, Context = undefined>(
  claims: Claims,
  rules: readonly AuthzRule<Claims, Context>[],
  context?: Context,
): Promise<void> {
  checkRules(rules, 'authorize()');
  for (const rule of rules) await rule(claims, context as Context);
}

function isForbidden(error: unknown): error is CognitoJwtError {
  return error instanceof CognitoJwtError && error.status === 403;
}

/**
 * A rule that passes when at least one of `rules` passes (tried in order), for "admins, or the
 * owner of the resource". When all refuse, throws `ERR_FORBIDDEN` listing each refusal; any
 * other error (a bad token, a failing database call in a predicate) is rethrown at once, so
 * an alternative never hides a fault.
 *
 * ```ts
 * const adminOrOwner = anyOf(requireGroups('admins'), requirePredicate((claims, req: Request) => claims.sub === req.params.userId));
 * ```
 */
export function anyOf<Claims extends CognitoClaims = CognitoClaims, Context = unknown>(
  ...rules: AuthzRule<Claims, Context>[]
): AuthzRule<Claims, Context> {
  checkRules(rules, 'anyOf()');
  if (rules.length === 0) throw new ConfigError('anyOf() needs at least one rule');
  const either: AuthzRule<Claims, Context> = async (claims, context) => {
    const refusals: string[] = [];
    for (const rule of rules) {
      try {
        await rule(claims, context);
        return;
      } catch (error) {
        if (!isForbidden(error)) throw error;
        refusals.push(error.message);
      }
    }
    throw new CognitoJwtError('ERR_FORBIDDEN', `no alternative allowed the token: ${refusals.join('; or ')}`);
  };
  // Reads the request when any alternative may.
  return declareRule(either, { readsRequest: rules.some(readsRequest) });
}
