/**
 * The protected header of an `x-amzn-oidc-data` token. The load balancer puts the security
 * metadata here, not in the payload: which load balancer signed (`signer`), for which app client
 * (`client`), the IdP's issuer (`iss`) and the expiry (`exp`).
 *
 * ```ts
 * const { header } = await verifier.verifyWithHeader(data);
 * console.log(header.signer, header.client, header.exp);
 * ```
 */
export interface AlbTokenHeader {
  alg: 'ES256';
  /** A UUID naming the load balancer's public key. */
  kid: string;
  /** The load balancer's ARN. */
  signer: string;
  /** The app client id the load balancer authenticated with. */
  client: string;
  /** The IdP's issuer (for Cognito `https://cognito-idp.{region}.amazonaws.com/{userPoolId}`). */
  iss: string;
  /** Seconds since the epoch. */
  exp: number;
  typ?: string;
  [member: string]: unknown;
}

/**
 * The payload of an `x-amzn-oidc-data` token: the IdP's userinfo answer, with the IdP's loose
 * types (Cognito's userinfo writes `email_verified` as the string `"true"`). It holds no groups
 * and no scopes; verify `x-amzn-oidc-accesstoken` for those (see `AlbVerifierOptions.accessToken`).
 *
 * ```ts
 * const claims: AlbClaims = await verifier.verify(data);
 * const verified = claims.email_verified === true || claims.email_verified === 'true';
 * ```
 */
export interface AlbClaims {
  /** The user's id at the IdP; the same value the `x-amzn-oidc-identity` header carries. */
  sub: string;
  /** Usually present, and then equal to the header's (checked). */
  exp?: number;
  /** Usually present, and then equal to the header's (checked). */
  iss?: string;
  username?: string;
  email?: string;
  email_verified?: boolean | 'true' | 'false';
  phone_number?: string;
  phone_number_verified?: boolean | 'true' | 'false';
  name?: string;
  [claim: string]: unknown;
}
