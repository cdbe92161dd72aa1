/**
 * What the AWS doors without an HTTP response of their own (AppSync, WebSocket `$connect`,
 * Lambda@Edge) share: verify a token, run the rules, and tell `onError` of every refusal. Each
 * door turns the decision into its own answer.
 */
import { type AuthzRule, authorize, checkRules } from '../authz/rule.ts';
import { CognitoJwtError, ConfigError } from '../errors.ts';
import { checkFunction, typeName } from '../options.ts';
import type { CognitoClaims } from '../token/claims.ts';
import type { TokenVerifier } from './http.ts';

/** A door's decision: the verified claims, or the typed error that refused them. */
export type DoorDecision =
  | { allowed: true; claims: CognitoClaims }
  | { allowed: false; error: CognitoJwtError; claims: CognitoClaims | undefined };

/** Check the parts every door takes: rules (an array of rules) and callbacks (functions). */
export function checkDoorParts(
  where: string,
  rules: unknown,
  callbacks: Record<string, unknown>,
): readonly AuthzRule<CognitoClaims, never>[] {
  const list = rules ?? [];
  if (!Array.isArray(list)) throw new ConfigError(`${where}: rules must be an array, got ${typeName(list)}`);
  checkRules(list, where);
  for (const [name, value] of Object.entries(callbacks)) {
    if (value !== undefined) checkFunction(`${where}: ${name}`, value);
  }
  return list as readonly AuthzRule<CognitoClaims, never>[];
}

/**
 * Verify `token` and authorize its claims against `rules` with `event` as the context. Every
 * {@link CognitoJwtError} becomes a refusal (reported to `onError` first); anything else is a
 * fault of the caller's code and is thrown after `onError` heard of it.
 */
export async function decide<Event>(
  verifier: TokenVerifier<CognitoClaims>,
  rules: readonly AuthzRule<CognitoClaims, Event>[],
  token: () => string | null | undefined,
  event: Event,
  onError: ((error: unknown, event: Event) => void) | undefined,
): Promise<DoorDecision> {
  let claims: CognitoClaims | undefined;
  try {
    const found = token();
    if (!found) throw new CognitoJwtError('ERR_TOKEN_MISSING', 'the request carries no token');
    claims = await verifier.verify(found);
    await authorize(claims, rules, event);
    return { allowed: true, claims };
  } catch (error) {
    onError?.(error, event);
    if (error instanceof CognitoJwtError) return { allowed: false, error, claims };
    throw error;
  }
}
