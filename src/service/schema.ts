/**
 * The JSON Schema of `service.json`, built from the key lists the config checker uses, so an
 * editor completes exactly the keys `cognito-jwt serve` accepts. Each key needs its JSON type
 * below; a key the checker knows and this table does not fails the build of the schema.
 *
 * ```ts
 * const schema = buildServiceSchema(); // written to schema/service.schema.json by `npm run schema`
 * ```
 */
import { PROTECTED_RESOURCE_OPTION_KEYS } from '../adapters/protected-resource.ts';
import { ALB_CONFIG_KEYS } from '../alb/verifier.ts';
import type { OptionKeys } from '../options.ts';
import { REDIS_OPTION_KEYS, REVOCATION_OPTION_KEYS } from '../revocation/list.ts';
import { REDIS_SESSION_STORE_KEYS } from '../session/redis.ts';
import { LOG_LEVELS, SERVICE_CONFIG_KEY_LISTS } from './config.ts';
import { REQUIREMENT_KEYS, ROUTE_KEYS } from './routes.ts';

/** Where the published schema lives; examples reference it as `"$schema"`. */
export const SERVICE_SCHEMA_URL = 'https://unpkg.com/cognito-jwt/schema/service.schema.json';

type Schema = Record<string, unknown>;

const string: Schema = { type: 'string' };
const strings: Schema = { type: 'array', items: string };
const stringOrStrings: Schema = { anyOf: [string, strings] };
const nonNegative: Schema = { type: 'number', minimum: 0 };
const integer = (minimum: number, maximum?: number): Schema => ({
  type: 'integer',
  minimum,
  ...(maximum === undefined ? {} : { maximum }),
});
const level: Schema = { enum: [...LOG_LEVELS] };
/** A Redis Cluster's seed nodes, as the revocation list and the session store take them (instead of `url`). */
const redisCluster: Schema = {
  type: 'object',
  properties: { rootNodes: { ...strings, minItems: 1 }, topologyRefreshMs: nonNegative },
  required: ['rootNodes'],
  additionalProperties: false,
};

/** An object with exactly the keys of `list`, each typed by `types` (`false`: not settable in JSON). */
function objectOf(
  list: OptionKeys<unknown>,
  types: Record<string, Schema | false>,
  description?: string,
): Schema {
  const properties: Record<string, Schema> = {};
  for (const key of list.keys) {
    const type = types[key];
    if (type === undefined) throw new Error(`the schema has no type for ${list.what} key "${key}"`);
    if (type !== false) properties[key] = type;
  }
  for (const key of Object.keys(types)) {
    if (!list.keys.has(key)) throw new Error(`the schema types "${key}", which ${list.what} does not accept`);
  }
  return { type: 'object', ...(description ? { description } : {}), properties, additionalProperties: false };
}

const requirement: Schema = {
  anyOf: [
    { enum: ['anonymous', 'authenticated'] },
    objectOf(REQUIREMENT_KEYS, {
      groups: stringOrStrings,
      scopes: stringOrStrings,
      roles: stringOrStrings,
      match: { enum: ['any', 'all'] },
      acr: { anyOf: [integer(1, 4), string], description: 'a level 1-4, or its name in the pool' },
      amr: stringOrStrings,
      maxAuthAge: { ...nonNegative, description: 'seconds since auth_time' },
    }),
  ],
};

const pool = objectOf(
  SERVICE_CONFIG_KEY_LISTS.pool,
  {
    userPoolId: { ...string, pattern: '^[a-z0-9-]+_[A-Za-z0-9]+$', description: 'e.g. "eu-west-1_AbC123"' },
    clientId: {
      anyOf: [string, strings, { type: 'null' }],
      description: 'accepted app client ids; null: any client',
    },
    tokenUse: { enum: ['id', 'access', null], description: 'null accepts both' },
    groups: stringOrStrings,
    scopes: stringOrStrings,
    clockToleranceSeconds: integer(0, 300),
    issuer: string,
    jwksUri: string,
    jwks: { ...string, description: 'a JWKS snapshot file, relative to the config file' },
    audience: {
      ...stringOrStrings,
      description: 'access tokens must be bound to one of these resources (aud)',
    },
    acrLevels: { ...strings, minItems: 4, maxItems: 4, description: "the pool's names of levels 1-4" },
    groupsClaim: {
      anyOf: [
        string,
        {
          type: 'object',
          properties: { claim: string, format: { enum: ['array', 'json', 'bracketed', 'string'] } },
          required: ['claim', 'format'],
          additionalProperties: false,
        },
      ],
    },
    claims: {
      type: 'object',
      description:
        'claim name → type name (string, number, integer, boolean, string[], with ? if optional) or allowed strings',
      additionalProperties: { anyOf: [string, strings] },
    },
  },
  'a verifier config',
);

/**
 * The schema, as an object (draft 2020-12).
 *
 * ```ts
 * JSON.stringify(buildServiceSchema(), null, 2);
 * ```
 */
export function buildServiceSchema(): Schema {
  const lists = SERVICE_CONFIG_KEY_LISTS;
  const root = objectOf(lists.config, {
    listen: objectOf(lists.listen, {
      host: string,
      port: integer(0, 65535),
      headersTimeoutMs: nonNegative,
      requestTimeoutMs: nonNegative,
      maxConnections: integer(0),
    }),
    admin: objectOf(lists.admin, {
      listen: {
        ...objectOf(lists.adminListen, { host: string, port: integer(0, 65535) }),
        required: ['port'],
      },
    }),
    workers: integer(1),
    pools: { type: 'array', items: pool, minItems: 1 },
    token: objectOf(lists.token, { cookie: string }),
    alb: objectOf(ALB_CONFIG_KEYS, {
      albArn: stringOrStrings,
      issuer: { anyOf: [string, { type: 'null' }] },
      clientId: { anyOf: [string, strings, { type: 'null' }] },
      clockToleranceSeconds: integer(0, 300),
      keysUrl: string,
    }),
    routes: {
      type: 'array',
      items: objectOf(ROUTE_KEYS, {
        path: { ...string, pattern: '^/' },
        methods: strings,
        require: requirement,
      }),
    },
    roles: { type: 'object', additionalProperties: stringOrStrings },
    caseSensitivePaths: { type: 'boolean' },
    claimsHeader: { type: 'boolean' },
    identityHeaders: { type: 'object', additionalProperties: string },
    realm: string,
    keys: objectOf(lists.keys, {
      timeoutMs: nonNegative,
      maxBytes: nonNegative,
      cooldownMs: nonNegative,
      maxAgeMs: nonNegative,
      staleIfErrorMs: nonNegative,
      backoffMs: nonNegative,
      maxBackoffMs: nonNegative,
      offline: { type: 'boolean' },
    }),
    tokenCache: {
      anyOf: [
        { type: 'boolean' },
        { type: 'object', properties: { maxEntries: integer(1) }, additionalProperties: false },
      ],
    },
    maxTokenLength: integer(1),
    revocation: objectOf(REVOCATION_OPTION_KEYS, {
      store: { enum: ['memory', 'redis'] },
      redis: objectOf(REDIS_OPTION_KEYS, {
        url: string,
        keyPrefix: string,
        connectTimeoutMs: nonNegative,
        commandTimeoutMs: nonNegative,
        cluster: redisCluster,
      }),
      onUnavailable: { enum: ['reject', 'accept'] },
      maxStalenessMs: nonNegative,
      heartbeatMs: nonNegative,
      reconcileIntervalMs: nonNegative,
      readyTimeoutMs: nonNegative,
      tokenLifetimeSeconds: nonNegative,
      poolTokenLifetimeSeconds: { type: 'object', additionalProperties: nonNegative },
      sweepIntervalMs: nonNegative,
      maxEntriesPerPool: integer(1),
      clock: false,
    }),
    envoyPathPrefix: { ...string, pattern: '^/' },
    log: objectOf(lists.log, { level, decisions: level, allowed: level }),
    metrics: { type: 'boolean' },
    protectedResource: {
      ...objectOf(PROTECTED_RESOURCE_OPTION_KEYS, {
        resource: string,
        scopes: strings,
        authorizationServers: strings,
        resourceName: string,
        resourceDocumentation: string,
      }),
      required: ['resource'],
    },
    shutdownTimeoutMs: nonNegative,
    session: {
      ...objectOf(
        lists.session,
        {
          domain: { ...string, description: 'the user pool domain (managed login)' },
          clientId: string,
          clientSecret: string,
          appOrigin: {
            ...string,
            description: 'https://app.example.com: the redirect_uri is appOrigin + /oauth2/callback',
          },
          secrets: { ...strings, minItems: 1, description: 'or COGNITO_JWT_SESSION_SECRETS' },
          returnToPaths: strings,
          logoutUri: string,
          scopes: strings,
          cookieName: string,
          cookieDomain: string,
          maxCookieChunks: integer(1, 4),
          absoluteLifetimeSeconds: integer(60),
          idleLifetimeSeconds: integer(60),
          signInLifetimeSeconds: integer(60, 3600),
          refreshMarginSeconds: integer(0, 3600),
          insecureLocalhost: { type: 'boolean' },
          timeoutMs: nonNegative,
          store: {
            ...objectOf(lists.sessionStore, {
              redis: {
                ...objectOf(REDIS_SESSION_STORE_KEYS, {
                  url: string,
                  cluster: redisCluster,
                  keyPrefix: string,
                  connectTimeoutMs: nonNegative,
                  commandTimeoutMs: nonNegative,
                }),
                // url (one node) or cluster, not both: the checker's rule.
                oneOf: [
                  { properties: { url: string }, required: ['url'] },
                  { properties: { cluster: redisCluster }, required: ['cluster'] },
                ],
              },
            }),
            required: ['redis'],
          },
        },
        'browser sign-in through the service (/oauth2/start, /oauth2/callback, /oauth2/sign_out)',
      ),
      required: ['domain', 'clientId', 'appOrigin'],
    },
  });
  const properties = root.properties as Record<string, Schema>;
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: SERVICE_SCHEMA_URL,
    title: 'cognito-jwt serve: service.json',
    description: 'The config file of `cognito-jwt serve` (docs/service.md). Generated by `npm run schema`.',
    type: 'object',
    properties: {
      $schema: { ...string, description: 'this schema, for editors; ignored by the service' },
      ...properties,
    },
    additionalProperties: false,
  };
}
