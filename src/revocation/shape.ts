import type { RevocationList } from './list.ts';

/**
 * Whether a value is a revocation list, by its shape. The doors that take one (the token endpoint
 * client, `TokenSession`, browser sessions) check it this way rather than with `instanceof`: a
 * value import of the list would pull its Redis store (node:crypto, the redis package) into every
 * bundle of those doors, Workers included.
 */
export function isRevocationList(value: unknown): value is RevocationList {
  const list = value as Partial<RevocationList> | null;
  return (
    typeof list === 'object' &&
    list !== null &&
    typeof list.isRevoked === 'function' &&
    typeof list.revokeSession === 'function' &&
    typeof list.revokeUser === 'function'
  );
}
