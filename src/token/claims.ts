/** The JOSE header of a Cognito token. Cognito sets `kid` and `alg` (RS256); nothing else is trusted. */
export interface JwtHeader {
  alg?: string;
  kid?: string;
  typ?: string;
  [member: string]: unknown;
}

/** Claims every Cognito ID and access token carries. */
export interface CognitoCommonClaims {
  /** The user's stable UUID (for client-credentials tokens: the app client id). Use it as the user key. */
  sub: string;
  /** `https://cognito-idp.{region}.amazonaws.com/{userPoolId}` */
  iss: string;
  /** Seconds since the epoch. */
  exp: number;
  iat: number;
  auth_time?: number;
  jti?: string;
  /** Shared by every token minted from one refresh session; the key of a session deny-list. */
  origin_jti?: string;
  event_id?: string;
  'cognito:groups'?: string[];
  /**
   * Authentication methods (`amr`), when the token carries them: an open set of names such as
   * `pwd`, `otp`, `mfa` (Essentials and Plus plans).
   */
  amr?: string[];
  /**
   * The authentication level (`acr`) the sign-in reached: `urn:cognito:loa:1` to `urn:cognito:loa:4`
   * unless the pool renamed its levels (Essentials and Plus plans).
   */
  acr?: string;
  /** Custom claims added by a pre token generation trigger: any JSON value. */
  [claim: string]: unknown;
}

/** Claims of a Cognito ID token (`token_use: "id"`). */
export interface CognitoIdTokenClaims extends CognitoCommonClaims {
  token_use: 'id';
  /** The app client id the user signed in with. */
  aud: string;
  'cognito:username': string;
  'cognito:roles'?: string[];
  'cognito:preferred_role'?: string;
  email?: string;
  email_verified?: boolean;
  phone_number?: string;
  phone_number_verified?: boolean;
  name?: string;
  nonce?: string;
  at_hash?: string;
  identities?: unknown[];
}

/** Claims of a Cognito access token (`token_use: "access"`); client-credentials tokens have no `username`. */
export interface CognitoAccessTokenClaims extends CognitoCommonClaims {
  token_use: 'access';
  /** The app client id: the client check of an access token reads this claim, never `aud`. */
  client_id: string;
  /**
   * The resource (API) the token is bound to, when the client asked for one with `resource=` (RFC
   * 8707, managed login on the Essentials and Plus plans). Unbound access tokens, the common case,
   * have none. Check it with the verifier's `audience` option.
   */
  aud?: string | string[];
  /** Space-separated scopes, e.g. `openid email` or `{resourceServer}/{scope}`. */
  scope?: string;
  /** Absent in client-credentials (machine-to-machine) tokens. */
  username?: string;
  device_key?: string;
  version?: number;
}

export type CognitoClaims = CognitoIdTokenClaims | CognitoAccessTokenClaims;
export type TokenUse = 'id' | 'access';

/** A token split and decoded, but not verified. */
export interface DecodedToken<Payload = Record<string, unknown>> {
  header: JwtHeader;
  payload: Payload;
}
