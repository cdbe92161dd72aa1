/**
 * A schema for custom claims (what a pre-token-generation trigger adds), checked after the
 * signature: `{ tenant: 'string', plan: ['free', 'pro'], seats: 'number' }`. A token whose claims do
 * not fit is refused with `ERR_CLAIM_INVALID` naming the claim, and the verified claims are typed
 * from the schema.
 */
import { ConfigError, describeValue, invalidClaim } from '../errors.ts';
import { typeName } from '../options.ts';

/** The type names a claims schema knows. */
export type ClaimTypeName = 'string' | 'number' | 'integer' | 'boolean' | 'string[]';

/**
 * One claim of a schema: a type name (required claim), the type name with `?` (may be absent), or
 * a non-empty list of the strings allowed (required).
 */
export type ClaimSpec = ClaimTypeName | `${ClaimTypeName}?` | readonly [string, ...string[]];

/** Claim name → what it must hold. */
export type ClaimsSchema = Readonly<Record<string, ClaimSpec>>;

type ValueOf<Spec> = Spec extends 'string' | 'string?'
  ? string
  : Spec extends 'number' | 'number?' | 'integer' | 'integer?'
    ? number
    : Spec extends 'boolean' | 'boolean?'
      ? boolean
      : Spec extends 'string[]' | 'string[]?'
        ? readonly string[]
        : Spec extends readonly (infer Item)[]
          ? Item
          : never;

/**
 * The claims a schema promises: `{ tenant: 'string', plan: ['free', 'pro'], seats: 'number?' }` →
 * `{ tenant: string; plan: 'free' | 'pro'; seats?: number }`.
 */
export type SchemaClaims<Schema> = {
  readonly [Name in keyof Schema as Schema[Name] extends `${string}?` ? never : Name]: ValueOf<Schema[Name]>;
} & {
  readonly [Name in keyof Schema as Schema[Name] extends `${string}?` ? Name : never]?: ValueOf<Schema[Name]>;
};

/**
 * Claims whose type the verifier already checks or Cognito fixes: a schema cannot redefine them
 * (a type that disagrees would refuse every token).
 */
const RESERVED = new Set([
  'iss',
  'sub',
  'aud',
  'exp',
  'nbf',
  'iat',
  'auth_time',
  'jti',
  'origin_jti',
  'event_id',
  'token_use',
  'client_id',
  'scope',
  'username',
  'cognito:username',
  'cognito:groups',
  'cognito:roles',
  'cognito:preferred_role',
  'acr',
  'amr',
]);

const TYPE_NAMES: readonly ClaimTypeName[] = ['string', 'number', 'integer', 'boolean', 'string[]'];

/** One checked entry of a schema. */
export interface CompiledClaim {
  readonly name: string;
  readonly optional: boolean;
  /** A type name, or the allowed strings. */
  readonly type: ClaimTypeName | ReadonlySet<string>;
  /** For messages: `a string`, `one of "free", "pro"`. */
  readonly expected: string;
}

/** Check a config's `claims` schema; throws {@link ConfigError}. */
export function compileClaimsSchema(where: string, schema: unknown): readonly CompiledClaim[] {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    throw new ConfigError(
      `${where}: claims must be an object such as { tenant: 'string' }, got ${typeName(schema)}`,
    );
  }
  const compiled: CompiledClaim[] = [];
  for (const [name, spec] of Object.entries(schema)) {
    if (RESERVED.has(name)) {
      throw new ConfigError(
        `${where}: claims cannot redefine ${JSON.stringify(name)}: the verifier checks it already`,
      );
    }
    if (Array.isArray(spec)) {
      if (spec.length === 0 || !spec.every((item) => typeof item === 'string')) {
        throw new ConfigError(`${where}: claims.${name} must list the strings it allows, at least one`);
      }
      compiled.push({
        name,
        optional: false,
        type: new Set(spec as string[]),
        expected: `one of ${spec.map((item) => JSON.stringify(item)).join(', ')}`,
      });
      continue;
    }
    const optional = typeof spec === 'string' && spec.endsWith('?');
    const type = typeof spec === 'string' ? (optional ? spec.slice(0, -1) : spec) : spec;
    if (!TYPE_NAMES.includes(type as ClaimTypeName)) {
      throw new ConfigError(
        `${where}: claims.${name} has the unknown type ${describeValue(spec)}; use ${TYPE_NAMES.join(', ')} (with "?" when it may be absent) or a list of allowed strings`,
      );
    }
    compiled.push({
      name,
      optional,
      type: type as ClaimTypeName,
      expected:
        type === 'string[]'
          ? 'an array of strings'
          : type === 'integer'
            ? 'a whole number'
            : type === 'string'
              ? 'a string'
              : `a ${type}`,
    });
  }
  return compiled;
}

function fits(type: CompiledClaim['type'], value: unknown): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return Number.isSafeInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'string[]':
      return Array.isArray(value) && value.every((item) => typeof item === 'string');
    default:
      return typeof value === 'string' && type.has(value);
  }
}

/** Check a verified payload against a compiled schema; throws `ERR_CLAIM_INVALID` naming the claim. */
export function checkClaimsSchema(payload: Record<string, unknown>, schema: readonly CompiledClaim[]): void {
  for (const claim of schema) {
    const value = payload[claim.name];
    if (value === undefined && claim.optional) continue;
    if (!fits(claim.type, value)) {
      throw invalidClaim(claim.name, `${claim.expected}${claim.optional ? ' when present' : ''}`, value);
    }
  }
}
