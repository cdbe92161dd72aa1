/**
 * Compile-time assertions for type tests; at run time they do nothing.
 *
 * ```ts
 * expectType<string>(claims.aud); // compiles only if claims.aud is assignable to string
 * expectTrue<Equals<typeof claims, CognitoIdTokenClaims>>(); // compiles only if the types are identical
 * ```
 */

/** `true` when A and B are the same type (not merely assignable either way). */
export type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/** Compiles only when `value` is assignable to `T`; use with an explicit type argument. */
export function expectType<T>(value: T): T {
  return value;
}

/** Compiles only when the type argument is `true` (pair it with {@link Equals}). */
export function expectTrue<_Condition extends true>(): boolean {
  return true;
}
