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
  /** Authentication methods (`amr`), when the token carries them. */
  amr?: string[];
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
  /** The app client id (access tokens carry no `aud`). */
  client_id: string;
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
