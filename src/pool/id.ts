import { describeValue } from '../errors.ts';
import { closestName } from '../options.ts';

const POOL_ID = /^[\w-]+_[0-9A-Za-z]+$/;
/** The part of a pool id before the underscore when it names a region (it has a dash): `eu-west-1`. */
const REGION_PREFIX = /^([a-z0-9]+(?:-[a-z0-9]+)+)_[0-9A-Za-z]+$/i;
// The shape every AWS region name follows, not a list of regions (a list ages with every new
// region): an area (`us`, `eu`, `ap`, `il`, ..., with a sub-partition such as `-gov`, `-iso`,
// `-isob`, or a sovereign cloud `eusc-de`), a compass direction, a number.
const DIRECTIONS = [
  'east',
  'west',
  'north',
  'south',
  'central',
  'northeast',
  'northwest',
  'southeast',
  'southwest',
] as const;
const AREA = '(?:[a-z]{2}(?:-(?:gov|iso[a-z]?))?|[a-z]{4}-[a-z]{2})';
const REGION = new RegExp(`^${AREA}-(?:${DIRECTIONS.join('|')})-\\d{1,2}$`);
const REGION_PARTS = new RegExp(`^(${AREA})-([a-z]+)-(\\d{1,2})$`);

/** Whether a string has the shape of a user pool id (`us-east-1_AbC123`, or an emulator's `local_AbC123`). */
export function isUserPoolId(value: string): boolean {
  return value.length <= 55 && POOL_ID.test(value);
}

/**
 * The region a pool id starts with (`us-east-1_AbC123` → `us-east-1`); `undefined` for emulator
 * ids (`local_AbC123`) and for a prefix that is not shaped like an AWS region (`eu-wset-1`).
 *
 * ```ts
 * poolRegion('eu-west-1_AbC123'); // 'eu-west-1'
 * ```
 */
export function poolRegion(userPoolId: string): string | undefined {
  const prefix = REGION_PREFIX.exec(userPoolId)?.[1];
  return prefix !== undefined && REGION.test(prefix) ? prefix : undefined;
}

/** Why a pool id's prefix is not a region, with the likely intended one when a direction is misspelt. */
export function regionMistake(userPoolId: string): string | undefined {
  const prefix = REGION_PREFIX.exec(userPoolId)?.[1];
  if (prefix === undefined) return undefined;
  const parts = REGION_PARTS.exec(prefix.toLowerCase());
  const direction = parts?.[2] === undefined ? undefined : closestName(parts[2], DIRECTIONS);
  const suggestion =
    parts !== null && direction !== undefined ? `${parts[1]}-${direction}-${parts[3]}` : undefined;
  return (
    `userPoolId ${describeValue(userPoolId)} starts with ${describeValue(prefix)}, which is not an AWS region ` +
    '(an area, a compass direction and a number, such as "eu-west-1")' +
    (suggestion !== undefined && REGION.test(suggestion) ? `; did you mean "${suggestion}"?` : '')
  );
}
