/**
 * Step-up rules: how strong (`acr`, `amr`) and how recent (`auth_time`) the sign-in behind a token
 * must be. A refusal is a {@link StepUpRequiredError} (401, `ERR_STEP_UP_REQUIRED`), which the HTTP
 * adapters and the service answer with the RFC 9470 challenge
 * `Bearer error="insufficient_user_authentication", acr_values="…", max_age=N`, so the client can
 * sign the user in again with those parameters and retry.
 */
import { ConfigError, describeValue, StepUpRequiredError } from '../errors.ts';
import { checkNumber, stringList } from '../options.ts';
import type { CognitoClaims } from '../token/claims.ts';
import { factsOf } from '../verify/facts.ts';
import { type ClaimsRule, declareRule } from './rule.ts';

/** A level: its position, 1 (lowest) to 4, or its name in the pool (`urn:cognito:loa:2`). */
export type AcrLevel = 1 | 2 | 3 | 4 | string;

const DEFAULT_NAME = /^urn:cognito:loa:(\d+)$/;

function checkLevel(level: unknown): AcrLevel {
  if (typeof level === 'number') {
    if (level === 1 || level === 2 || level === 3 || level === 4) return level;
    throw new ConfigError(`requireAcr(): a level number is 1 to 4 (Cognito has four levels), got ${level}`);
  }
  if (typeof level !== 'string' || !/^[\x21-\x7E]+$/.test(level) || /["\\]/.test(level)) {
    throw new ConfigError(
      `requireAcr(): the level must be 1 to 4 or a level name such as "urn:cognito:loa:2", got ${describeValue(level)}`,
    );
  }
  const number = DEFAULT_NAME.exec(level)?.[1];
  if (number !== undefined && !['1', '2', '3', '4'].includes(number)) {
    throw new ConfigError(
      `requireAcr(): Cognito has four levels, urn:cognito:loa:1 to urn:cognito:loa:4; got ${level}`,
    );
  }
  return level;
}

/**
 * A rule: the sign-in must have reached at least `level` of the pool's four ordered authentication
 * levels (`acr`). `level` is 1 to 4, or a level name; names are Cognito's `urn:cognito:loa:1` …
 * `urn:cognito:loa:4` unless the verifier config's `acrLevels` renames them. A token without `acr`,
 * with a lower level, or with a value the pool does not name is refused with
 * `ERR_STEP_UP_REQUIRED` (401) and `acr_values` set to the level asked for. A name the pool does
 * not have is a configuration mistake (`ERR_CONFIG_INVALID`), found on the first request. Reads
 * only the claims: safe under any authorizer cache.
 *
 * ```ts
 * app.post('/payments', auth.authorize(requireAcr('urn:cognito:loa:2')), pay);
 * ```
 */
export function requireAcr(level: AcrLevel): ClaimsRule {
  const wanted = checkLevel(level);
  return declareRule(
    (claims: CognitoClaims) => {
      const levels = factsOf(claims).acrLevels;
      const minimum = typeof wanted === 'number' ? wanted - 1 : levels.indexOf(wanted);
      if (minimum === -1) {
        throw new ConfigError(
          `requireAcr(): ${JSON.stringify(wanted)} is not a level of this pool (its levels: ${levels.join(', ')}); set acrLevels in the verifier config when the pool renames them`,
        );
      }
      const name = levels[minimum]!;
      const acr = claims.acr;
      const reached = typeof acr === 'string' ? levels.indexOf(acr) : -1;
      if (reached >= minimum) return;
      const found =
        acr === undefined
          ? 'the token has no acr'
          : reached === -1
            ? `acr ${describeValue(acr)} is not one of the pool's levels (${levels.join(', ')})`
            : `its acr is ${acr}`;
      throw new StepUpRequiredError(`the sign-in must reach ${name} or higher; ${found}`, {
        claim: 'acr',
        acrValues: [name],
      });
    },
    { readsRequest: false },
  );
}

/**
 * A rule: the sign-in must have used every one of these authentication methods (`amr`, an open set
 * such as `pwd`, `otp`, `mfa`). Refused with `ERR_STEP_UP_REQUIRED` (401); RFC 9470's challenge
 * has no parameter for methods, so it carries only the error. Reads only the claims.
 *
 * ```ts
 * const mfa = requireAmr('mfa');
 * ```
 */
export function requireAmr(...methods: string[]): ClaimsRule {
  if (methods.length === 0) throw new ConfigError('requireAmr() needs at least one method, e.g. "mfa"');
  const wanted = stringList('requireAmr()', methods);
  return declareRule(
    (claims: CognitoClaims) => {
      const amr = Array.isArray(claims.amr) ? claims.amr : [];
      const missing = wanted.filter((method) => !amr.includes(method));
      if (missing.length === 0) return;
      throw new StepUpRequiredError(
        `the sign-in must use ${wanted.join(' and ')}; it lacks ${missing.join(', ')} (its amr: ${amr.length > 0 ? amr.join(', ') : 'none'})`,
        { claim: 'amr' },
      );
    },
    { readsRequest: false },
  );
}

/**
 * A rule: the user must have signed in (`auth_time`) at most `seconds` ago, by the clock of the
 * verifier that returned the claims and with its `clockToleranceSeconds`. Refused with
 * `ERR_STEP_UP_REQUIRED` (401) and `max_age=seconds`: the client signs the user in again with
 * `max_age`. Refreshed tokens keep the first sign-in's `auth_time`, so a refresh does not satisfy it.
 *
 * It reads the clock: under API Gateway's authorizer cache a cached Allow would outlive the window,
 * so the Lambda authorizers refuse a cache TTL above `seconds` (see their `cacheTtlSeconds`).
 *
 * ```ts
 * app.delete('/account', auth.authorize(maxAuthAge(300)), closeAccount);
 * ```
 */
export function maxAuthAge(seconds: number): ClaimsRule {
  checkNumber('maxAuthAge()', seconds, { min: 0, integer: true, finite: true });
  return declareRule(
    (claims: CognitoClaims) => {
      const { clock, toleranceSeconds } = factsOf(claims);
      const authTime = claims.auth_time;
      const now = clock() / 1000;
      if (typeof authTime === 'number' && now <= authTime + seconds + toleranceSeconds) return;
      throw new StepUpRequiredError(
        typeof authTime === 'number'
          ? `the sign-in must be at most ${seconds} s old; it was ${Math.round(now - authTime)} s ago`
          : `the sign-in must be at most ${seconds} s old; the token has no auth_time`,
        { claim: 'auth_time', maxAge: seconds },
      );
    },
    { readsRequest: false, maxAuthAgeSeconds: seconds },
  );
}
