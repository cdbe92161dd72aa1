import { ConfigError } from '../errors.ts';
import { stringList } from '../options.ts';
import type { CognitoClaims } from '../token/claims.ts';
import { requireGroups } from './require.ts';
import { groupsOf } from './rights.ts';
import type { ClaimsRule } from './rule.ts';

/** Role name → the `cognito:groups` that grant it, e.g. `{ admin: ['admins'], editor: ['editors', 'admins'] }`. */
export type RoleMap = Readonly<Record<string, string | readonly string[]>>;

/** Roles defined by {@link defineRoles}. */
export interface Roles<Role extends string> {
  /** Every role name, in the order of the map. */
  readonly names: readonly Role[];
  /** Whether the claims' groups grant `role`. */
  hasRole(claims: CognitoClaims, role: Role): boolean;
  /** Every role the claims' groups grant. */
  rolesOf(claims: CognitoClaims): Role[];
  /** A rule: the token must hold at least one of `roles` (else `ERR_GROUP_MISSING`, 403, naming the groups). */
  requireRole(...roles: Role[]): ClaimsRule;
}

/**
 * Map application roles to Cognito groups once, then ask about roles instead of groups. The map
 * is checked here: every role needs at least one group, and unknown roles are refused.
 *
 * ```ts
 * const roles = defineRoles({ admin: ['admins'], editor: ['editors', 'admins'] });
 * roles.hasRole(claims, 'editor'); // true for members of editors or admins
 * app.put('/articles/:id', auth.authorize(roles.requireRole('editor')), handler);
 * ```
 */
export function defineRoles<const Map extends RoleMap>(map: Map): Roles<Extract<keyof Map, string>> {
  type Role = Extract<keyof Map, string>;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) {
    throw new ConfigError('defineRoles() needs an object: { role: [groups] }');
  }
  // A Map, not the object: a role named "constructor" or "__proto__" must not reach Object.prototype.
  const groupsByRole = new Map<string, readonly string[]>();
  for (const [role, groups] of Object.entries(map)) {
    groupsByRole.set(role, stringList(`defineRoles(): role "${role}"`, groups));
  }
  if (groupsByRole.size === 0) throw new ConfigError('defineRoles() needs at least one role');
  const groupsOfRole = (role: string): readonly string[] => {
    const groups = groupsByRole.get(role);
    if (!groups) {
      throw new ConfigError(
        `unknown role ${JSON.stringify(role)}; the roles are ${[...groupsByRole.keys()].join(', ')}`,
      );
    }
    return groups;
  };
  const hasRole = (claims: CognitoClaims, role: Role): boolean => {
    const wanted = groupsOfRole(role);
    return groupsOf(claims).some((group) => wanted.includes(group));
  };
  return {
    names: [...groupsByRole.keys()] as Role[],
    hasRole,
    rolesOf: (claims) => ([...groupsByRole.keys()] as Role[]).filter((role) => hasRole(claims, role)),
    requireRole(...roles) {
      if (roles.length === 0) throw new ConfigError('requireRole() needs at least one role');
      return requireGroups([...new Set(roles.flatMap(groupsOfRole))]);
    },
  };
}
