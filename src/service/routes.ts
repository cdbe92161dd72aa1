/**
 * Route rules: a method and a path pattern mapped to what a request needs. The first rule that
 * matches decides; a request no rule matches is refused.
 *
 * Pattern syntax (matched against the path {@link normalisePath} produced):
 * - `/orders/history`: exact segments;
 * - `*`: exactly one segment, whatever it is (`/orders/*` matches `/orders/42`, not `/orders`);
 * - `*` inside a segment: any characters within that segment, none included (`/admin*` matches
 *   `/admin`, `/admin.json` and `/admin-console`, as a prefix router such as nginx's
 *   `location /admin` would; `/*.json` matches `/a.json`);
 * - `**`: the rest of the path, zero or more segments, only as the last segment
 *   (`/admin/**` matches `/admin`, `/admin/users` and `/admin/a/b`; `/**` matches every path).
 * A trailing `/` is not significant: the normalised path has none.
 */
import { requireGroups, requireScopes } from '../authz/require.ts';
import { defineRoles, type RoleMap, type Roles } from '../authz/roles.ts';
import type { ClaimsRule } from '../authz/rule.ts';
import { type AcrLevel, maxAuthAge, requireAcr, requireAmr } from '../authz/step-up.ts';
import { ConfigError } from '../errors.ts';
import { checkOptions, closestName, optionKeys } from '../options.ts';

/** What a route needs, as written in the config file. */
export type RouteRequirement =
  | 'anonymous'
  | 'authenticated'
  | {
      /** At least one of these `cognito:groups` (all of them with `match: "all"`). */
      groups?: string | string[];
      /** At least one of these scopes (all of them with `match: "all"`). */
      scopes?: string | string[];
      /** At least one of these roles of the config's `roles` map (all of them with `match: "all"`). */
      roles?: string | string[];
      /** `any` (default) or `all`, for `groups`, `scopes` and `roles`. */
      match?: 'any' | 'all';
      /** The least authentication level (`acr`): 1 to 4 or a level name of the pool (`requireAcr`). */
      acr?: number | string;
      /** Authentication methods the sign-in must have used, e.g. `["mfa"]` (`requireAmr`). */
      amr?: string | string[];
      /** The most seconds since sign-in (`maxAuthAge`). */
      maxAuthAge?: number;
    };

/** One route rule as written in the config file. */
export interface RouteConfig {
  /** A path pattern: exact segments, `*` for one segment or within one, `**` for the rest. */
  path: string;
  /** HTTP methods (`GET`, `POST`, …) the rule applies to; default every method. */
  methods?: string[];
  /** `"anonymous"` (no token looked at), `"authenticated"` (any valid token), or groups / scopes / roles. */
  require: RouteRequirement;
}

/** A checked route rule, ready to match. */
export interface Route {
  /** Position in the config's `routes`, for logs. */
  readonly index: number;
  readonly pattern: string;
  readonly methods: ReadonlySet<string> | undefined;
  readonly anonymous: boolean;
  /** Rules the verified claims must pass (empty for `authenticated`). */
  readonly rules: readonly ClaimsRule[];
  /** What the rule requires, in words: `anonymous`, `authenticated`, `groups any of admins`. */
  readonly requirement: string;
  /** Each segment: a literal, `*` (any one segment), or a glob within the segment. */
  readonly segments: readonly (string | RegExp)[];
  /** The pattern ends with `**`. */
  readonly rest: boolean;
}

export const ROUTE_KEYS = optionKeys<RouteConfig>('route', { path: true, methods: true, require: true });
type RequirementObject = Exclude<RouteRequirement, string>;
export const REQUIREMENT_KEYS = optionKeys<RequirementObject>('route requirement', {
  groups: true,
  scopes: true,
  roles: true,
  match: true,
  acr: true,
  amr: true,
  maxAuthAge: true,
});
const METHOD = /^[A-Z]+$/;
const SEGMENT = /^[\x21-\x7E]+$/;

function compilePattern(where: string, pattern: unknown, caseSensitive: boolean) {
  if (typeof pattern !== 'string' || !pattern.startsWith('/')) {
    throw new ConfigError(`${where}: path must be a pattern starting with "/", e.g. "/admin/**"`);
  }
  const segments = pattern.split('/').filter((segment) => segment !== '');
  for (const [position, segment] of segments.entries()) {
    if (segment === '**' && position !== segments.length - 1) {
      throw new ConfigError(`${where}: "**" may only end a pattern (${pattern})`);
    }
    if (
      segment === '.' ||
      segment === '..' ||
      !SEGMENT.test(segment) ||
      /[;%?#\\]/.test(segment) ||
      /[ .]$/.test(segment)
    ) {
      throw new ConfigError(
        `${where}: the segment ${JSON.stringify(segment)} of ${pattern} can never match a normalised path`,
      );
    }
    if (segment !== '**' && segment.includes('**')) {
      throw new ConfigError(
        `${where}: "**" must be a whole segment at the end (${pattern}); within a segment write one "*"`,
      );
    }
  }
  const rest = segments.at(-1) === '**';
  const fixed = (rest ? segments.slice(0, -1) : segments).map((segment) =>
    caseSensitive ? segment : segment.toLowerCase(),
  );
  return { segments: fixed.map(compileSegment), rest };
}

/** `*` stays `*`; a segment with `*` inside becomes an anchored expression; the rest stay literal. */
function compileSegment(segment: string): string | RegExp {
  if (segment === '*' || !segment.includes('*')) return segment;
  const literal = segment.split('*').map((part) => part.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&'));
  return new RegExp(`^${literal.join('[^/]*')}$`, 's');
}

function asList(where: string, value: unknown): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 || !list.every((item) => typeof item === 'string' && item)) {
    throw new ConfigError(`${where} must be a non-empty string or list of non-empty strings`);
  }
  return list;
}

function compileRequirement(
  where: string,
  requirement: unknown,
  roles: Roles<string> | undefined,
): { anonymous: boolean; rules: ClaimsRule[]; requirement: string } {
  if (requirement === 'anonymous') return { anonymous: true, rules: [], requirement };
  if (requirement === 'authenticated') return { anonymous: false, rules: [], requirement };
  if (typeof requirement === 'string') {
    const near = closestName(requirement, ['anonymous', 'authenticated']);
    throw new ConfigError(
      `${where}: require must be "anonymous", "authenticated" or { groups, scopes, roles }, got ${JSON.stringify(requirement)}` +
        (near ? `; did you mean "${near}"?` : ''),
    );
  }
  checkOptions(REQUIREMENT_KEYS, requirement, `${where}: `);
  if (requirement === undefined) {
    throw new ConfigError(
      `${where}: require is needed ("anonymous", "authenticated" or { groups, scopes, roles })`,
    );
  }
  const { groups, scopes, match } = requirement;
  if (match !== undefined && match !== 'any' && match !== 'all') {
    throw new ConfigError(`${where}: match must be "any" or "all", got ${JSON.stringify(match)}`);
  }
  const options = match === undefined ? {} : { match };
  const rules: ClaimsRule[] = [];
  const words: string[] = [];
  const how = match ?? 'any';
  if (groups !== undefined) {
    const list = asList(`${where}: groups`, groups);
    rules.push(requireGroups(list, options));
    words.push(`groups ${how} of ${list.join(', ')}`);
  }
  if (scopes !== undefined) {
    const list = asList(`${where}: scopes`, scopes);
    rules.push(requireScopes(list, options));
    words.push(`scopes ${how} of ${list.join(', ')}`);
  }
  if (requirement.roles !== undefined) {
    if (!roles) throw new ConfigError(`${where}: roles are used but the config defines no "roles" map`);
    const list = asList(`${where}: roles`, requirement.roles);
    // All of the roles: one rule per role, each met by any of that role's groups.
    if (how === 'all') for (const role of list) rules.push(roles.requireRole(role));
    else rules.push(roles.requireRole(...list));
    words.push(`roles ${how} of ${list.join(', ')}`);
  }
  // Step-up (RFC 9470): a refusal is a 401 whose challenge names acr_values and max_age.
  const { acr, amr, maxAuthAge: maxAge } = requirement;
  try {
    if (acr !== undefined) rules.push(requireAcr(acr as AcrLevel));
    if (amr !== undefined) rules.push(requireAmr(...asList(`${where}: amr`, amr)));
    if (maxAge !== undefined) rules.push(maxAuthAge(maxAge));
  } catch (error) {
    throw new ConfigError(`${where}: ${(error as Error).message}`, { cause: error });
  }
  if (rules.length === 0) {
    throw new ConfigError(
      `${where}: a requirement object needs groups, scopes, roles, acr, amr or maxAuthAge; use "authenticated" for any valid token`,
    );
  }
  return { anonymous: false, rules, requirement: words.join(' and ') };
}

/**
 * Check the config's route rules and compile them. Throws {@link ConfigError} naming the rule.
 *
 * ```ts
 * const routes = compileRoutes([{ path: '/admin/**', require: { groups: 'admins' } }], { caseSensitive: true });
 * ```
 */
export function compileRoutes(
  routes: unknown,
  options: { caseSensitive: boolean; roles?: RoleMap | undefined },
): Route[] {
  if (!Array.isArray(routes) || routes.length === 0) {
    throw new ConfigError('routes must be a non-empty list of { path, methods?, require }');
  }
  const roles = options.roles === undefined ? undefined : defineRoles(options.roles);
  return routes.map((route: unknown, index) => {
    const where = `routes[${index}]`;
    checkOptions(ROUTE_KEYS, route, `${where}: `);
    if (route === undefined) throw new ConfigError(`${where} is missing`);
    let methods: Set<string> | undefined;
    if (route.methods !== undefined) {
      const list = asList(`${where}: methods`, route.methods);
      const bad = list.find((method) => !METHOD.test(method));
      if (bad !== undefined)
        throw new ConfigError(`${where}: method ${JSON.stringify(bad)} must be upper case, e.g. "GET"`);
      methods = new Set(list);
    }
    if (!('require' in route)) {
      throw new ConfigError(
        `${where}: require is needed ("anonymous", "authenticated" or { groups, scopes, roles })`,
      );
    }
    return {
      index,
      pattern: route.path,
      methods,
      ...compilePattern(where, route.path, options.caseSensitive),
      ...compileRequirement(where, route.require, roles),
    };
  });
}

function matches(route: Route, path: string): boolean {
  const segments = path === '/' ? [] : path.slice(1).split('/');
  if (route.rest ? segments.length < route.segments.length : segments.length !== route.segments.length) {
    return false;
  }
  return route.segments.every((want, position) =>
    typeof want === 'string' ? want === '*' || want === segments[position] : want.test(segments[position]!),
  );
}

/**
 * The first route whose method and pattern match, or `undefined` (the request is refused). `path`
 * comes from {@link normalisePath}, lower-cased already when paths are case-insensitive.
 *
 * ```ts
 * matchRoute(routes, 'GET', '/admin/users')?.index; // 0
 * ```
 */
export function matchRoute(routes: readonly Route[], method: string, path: string): Route | undefined {
  return routes.find(
    (route) => (route.methods === undefined || route.methods.has(method)) && matches(route, path),
  );
}
