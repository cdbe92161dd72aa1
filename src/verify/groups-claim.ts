/**
 * Where a token's groups come from. Cognito writes `cognito:groups` as an array of strings; pools
 * that take groups from a federated identity provider often map them to a custom attribute
 * instead, which Cognito writes as a string. Each format has a strict parser: a value that does not
 * fit the declared format is refused (`ERR_CLAIM_INVALID`), never guessed at.
 */
import { CognitoJwtError, ConfigError, describeValue, invalidClaim } from '../errors.ts';
import { checkOptions, optionKeys, typeName } from '../options.ts';

/**
 * How a groups claim is written:
 * - `'array'`: a JSON array of strings, as `cognito:groups` and as a pre-token-generation trigger
 *   (V2/V3) writes any list;
 * - `'json'`: a string holding a JSON array of strings (`"[\"admins\",\"staff\"]"`), as a custom
 *   attribute can hold one;
 * - `'bracketed'`: Cognito's form of a SAML multi-valued attribute mapped to a custom attribute,
 *   `"[admins, staff]"`: items separated by a comma and a space, no quotes;
 * - `'string'`: one group name.
 */
export type GroupsFormat = 'array' | 'json' | 'bracketed' | 'string';

/** The `groupsClaim` of a verifier config: a claim name (format `'array'`), or the claim and its format. */
export type GroupsClaim = string | { readonly claim: string; readonly format: GroupsFormat };

/** A checked {@link GroupsClaim}. */
export interface GroupsSource {
  readonly claim: string;
  readonly format: GroupsFormat;
}

/** A custom attribute holds at most this many characters. */
export const CUSTOM_ATTRIBUTE_MAX_LENGTH = 2048;

const FORMATS: readonly GroupsFormat[] = ['array', 'json', 'bracketed', 'string'];
const GROUPS_CLAIM_KEYS = optionKeys<Exclude<GroupsClaim, string>>('groupsClaim', {
  claim: true,
  format: true,
});

/** Check a config's `groupsClaim`; throws {@link ConfigError}. */
export function checkGroupsClaim(where: string, value: unknown): GroupsSource {
  if (typeof value === 'string') {
    if (value === '') throw new ConfigError(`${where}: groupsClaim must name a claim`);
    return { claim: value, format: 'array' };
  }
  checkOptions({ ...GROUPS_CLAIM_KEYS, what: `${where}: groupsClaim` }, value);
  const { claim, format } = (value ?? {}) as Partial<GroupsSource>;
  if (typeof claim !== 'string' || claim === '') {
    throw new ConfigError(
      `${where}: groupsClaim must be a claim name or { claim, format }, got claim ${describeValue(claim)}`,
    );
  }
  if (!FORMATS.includes(format as GroupsFormat)) {
    throw new ConfigError(
      `${where}: groupsClaim.format must be one of ${FORMATS.join(', ')}, got ${typeof format === 'string' ? JSON.stringify(format) : typeName(format)}`,
    );
  }
  return { claim, format: format as GroupsFormat };
}

function malformed(source: GroupsSource, expected: string, found: unknown): CognitoJwtError {
  return invalidClaim(source.claim, `${expected} (groupsClaim format '${source.format}')`, found);
}

function stringArray(source: GroupsSource, value: unknown, expected: string): string[] {
  if (!Array.isArray(value)) throw malformed(source, expected, value);
  for (const item of value) {
    if (typeof item !== 'string' || item === '') throw malformed(source, expected, value);
  }
  return value as string[];
}

/**
 * The groups a verified payload grants under `source`; no claim means no groups. Throws
 * `ERR_CLAIM_INVALID` naming the claim when the value does not fit the format.
 *
 * The bracketed form splits on `", "` exactly: a name that itself contains `", "` (a directory
 * name such as `CN=Admins, OU=Groups`) comes out as two names, and nothing in the string can tell.
 * Names with a bare comma (`CN=Admins,OU=Groups`) stay whole. Items with leading or trailing
 * spaces, empty items, brackets or quotes inside, and values longer than a custom attribute holds
 * (2 048 characters: a longer one did not come from Cognito's attribute mapping, and a cut one has
 * lost its closing bracket) are refused. `"[]"` and `""` are no groups.
 *
 * ```ts
 * parseGroups({ 'custom:groups': '[admins, staff]' }, { claim: 'custom:groups', format: 'bracketed' }); // ['admins', 'staff']
 * ```
 */
export function parseGroups(payload: Record<string, unknown>, source: GroupsSource): string[] {
  const value = payload[source.claim];
  if (value === undefined) return [];
  switch (source.format) {
    case 'array':
      return stringArray(source, value, 'an array of group names');
    case 'string':
      if (typeof value !== 'string') throw malformed(source, 'one group name (a string)', value);
      return value === '' ? [] : [value];
    case 'json': {
      if (typeof value !== 'string') throw malformed(source, 'a string holding a JSON array', value);
      let parsed: unknown;
      try {
        parsed = JSON.parse(value);
      } catch {
        throw malformed(source, 'a string holding a JSON array of group names', value);
      }
      return stringArray(source, parsed, 'a string holding a JSON array of group names');
    }
    case 'bracketed':
      return parseBracketed(source, value);
  }
}

function parseBracketed(source: GroupsSource, value: unknown): string[] {
  const expected = 'a bracketed list such as "[admins, staff]"';
  if (typeof value !== 'string') throw malformed(source, expected, value);
  if (value.length > CUSTOM_ATTRIBUTE_MAX_LENGTH) {
    throw new CognitoJwtError(
      'ERR_CLAIM_INVALID',
      `${source.claim} is ${value.length} characters long: a custom attribute holds at most ${CUSTOM_ATTRIBUTE_MAX_LENGTH}, so this is not Cognito's bracketed list`,
      { claim: source.claim },
    );
  }
  if (value === '' || value === '[]') return [];
  if (!value.startsWith('[') || !value.endsWith(']')) throw malformed(source, expected, value);
  const items = value.slice(1, -1).split(', ');
  for (const item of items) {
    if (item === '' || item.trim() !== item || /[[\]"]/.test(item)) throw malformed(source, expected, value);
  }
  return items;
}
