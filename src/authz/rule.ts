import { CognitoJwtError, ConfigError, StepUpRequiredError } from '../errors.ts';
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
  /**
   * The rule reads the clock as well as the claims: its answer holds only this many seconds after
   * sign-in (`maxAuthAge`). A Lambda authorizer refuses a cache TTL above it, since API Gateway
   * would replay an Allow after the window closed.
   */
  readonly maxAuthAgeSeconds?: number;
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
  flags: { readsRequest: boolean; maxAuthAgeSeconds?: number | undefined },
): Rule & { readonly readsRequest: boolean; readonly maxAuthAgeSeconds?: number } {
  if (typeof rule !== 'function') throw new ConfigError('declareRule() needs a function');
  if (typeof flags !== 'object' || flags === null || typeof flags.readsRequest !== 'boolean') {
    throw new ConfigError('declareRule() needs { readsRequest: true } or { readsRequest: false }');
  }
  const { maxAuthAgeSeconds } = flags;
  if (maxAuthAgeSeconds !== undefined && !(Number.isInteger(maxAuthAgeSeconds) && maxAuthAgeSeconds >= 0)) {
    throw new ConfigError('declareRule(): maxAuthAgeSeconds must be a whole number of seconds');
  }
  Object.defineProperty(rule, 'readsRequest', { value: flags.readsRequest, enumerable: true });
  if (maxAuthAgeSeconds !== undefined) {
    Object.defineProperty(rule, 'maxAuthAgeSeconds', { value: maxAuthAgeSeconds, enumerable: true });
  }
  return Object.freeze(rule) as Rule & {
    readonly readsRequest: boolean;
    readonly maxAuthAgeSeconds?: number;
  };
}

/**
 * The shortest `maxAuthAge` among rules, or `undefined` when none reads the clock.
 *
 * ```ts
 * maxAuthAgeOf([requireGroups('admins'), maxAuthAge(300)]); // 300
 * ```
 */
export function maxAuthAgeOf(
  rules: readonly (((...args: never[]) => unknown) & RuleFlags)[],
): number | undefined {
  let least: number | undefined;
  for (const rule of rules) {
    const age = rule.maxAuthAgeSeconds;
    if (age !== undefined && (least === undefined || age < least)) least = age;
  }
  return least;
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

/** A refusal another alternative may overcome: a missing right (403) or a sign-in to step up (401). */
function isForbidden(error: unknown): error is CognitoJwtError {
  return error instanceof CognitoJwtError && (error.status === 403 || error.code === 'ERR_STEP_UP_REQUIRED');
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
    let stepUp: StepUpRequiredError | undefined;
    for (const rule of rules) {
      try {
        await rule(claims, context);
        return;
      } catch (error) {
        if (!isForbidden(error)) throw error;
        refusals.push(error.message);
        if (stepUp === undefined && error instanceof StepUpRequiredError) stepUp = error;
      }
    }
    const message = `no alternative allowed the token: ${refusals.join('; or ')}`;
    // Stepping up would satisfy one alternative: say so with its challenge rather than a plain 403.
    if (stepUp !== undefined) {
      throw new StepUpRequiredError(message, {
        claim: stepUp.claim ?? 'acr',
        ...(stepUp.acrValues === undefined ? {} : { acrValues: stepUp.acrValues }),
        ...(stepUp.maxAge === undefined ? {} : { maxAge: stepUp.maxAge }),
      });
    }
    throw new CognitoJwtError('ERR_FORBIDDEN', message);
  };
  // Reads the request when any alternative may; holds only as long as its shortest window.
  return declareRule(either, {
    readsRequest: rules.some(readsRequest),
    maxAuthAgeSeconds: maxAuthAgeOf(rules),
  });
}
