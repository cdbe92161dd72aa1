import type { CognitoClaims } from '../token/claims.ts';

/**
 * The `cognito:groups` of verified claims; an empty list when the user is in no group.
 *
 * ```ts
 * if (groupsOf(claims).includes('admins')) showAdminMenu();
 * ```
 */
export function groupsOf(claims: CognitoClaims): string[] {
  const groups = claims['cognito:groups'];
  return Array.isArray(groups) ? groups : [];
}

/**
 * The scopes of verified claims (the space-separated `scope` of an access token, split); an
 * empty list for ID tokens, which carry none.
 *
 * ```ts
 * scopesOf(claims); // ['openid', 'orders/read']
 * ```
 */
export function scopesOf(claims: CognitoClaims): string[] {
  return typeof claims.scope === 'string' ? claims.scope.split(' ').filter((scope) => scope !== '') : [];
}
