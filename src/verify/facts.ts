/**
 * What a verifier knew when it accepted a token and a rule needs later: the pool's names for its
 * authentication levels, the groups its `groupsClaim` parsed, the verifier's clock and tolerance.
 * Rules (`requireGroups`, `requireAcr`, `maxAuthAge`, `groupsOf`) receive only the claims, so the
 * verifier files these facts under the (frozen, shared) claims object it returns. Recorded only
 * when a config sets something a default would get wrong; claims without facts get the defaults.
 */

/** Cognito's four ordered authentication levels, lowest first, unless a pool renames them. */
export const DEFAULT_ACR_LEVELS: readonly string[] = Object.freeze([
  'urn:cognito:loa:1',
  'urn:cognito:loa:2',
  'urn:cognito:loa:3',
  'urn:cognito:loa:4',
]);

/** Facts about verified claims; see the module comment. */
export interface VerificationFacts {
  /** The pool's level names, lowest first. */
  readonly acrLevels: readonly string[];
  /** Groups from the config's `groupsClaim`; `undefined`: read `cognito:groups`. */
  readonly groups: readonly string[] | undefined;
  /** Epoch milliseconds. */
  readonly clock: () => number;
  readonly toleranceSeconds: number;
}

// Pure: a bundle that verifies but never reads facts back drops it.
const DEFAULT_FACTS: VerificationFacts = /* @__PURE__ */ Object.freeze({
  acrLevels: DEFAULT_ACR_LEVELS,
  groups: undefined,
  clock: () => Date.now(),
  toleranceSeconds: 0,
});

const FACTS = new WeakMap<object, VerificationFacts>();

/** File `facts` under `claims` (the object the verifier returns). */
export function recordFacts(claims: object, facts: VerificationFacts): void {
  FACTS.set(claims, facts);
}

/**
 * The facts filed under `claims`, or the defaults (Cognito's level names, `cognito:groups`,
 * `Date.now`, no tolerance) for claims a verifier did not file: a copy of verified claims, claims
 * built by hand in a test, or claims of a config that sets none of these options.
 */
export function factsOf(claims: object): VerificationFacts {
  return FACTS.get(claims) ?? DEFAULT_FACTS;
}
