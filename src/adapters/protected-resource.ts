/**
 * OAuth 2.0 protected-resource metadata (RFC 9728): the document an API publishes at
 * `/.well-known/oauth-protected-resource{path}` so that OAuth clients (MCP clients among them)
 * find out which authorization server issues its tokens, and the `resource_metadata` URL its
 * challenges name. Written once for the Express, Fastify and Hono adapters and the service.
 */
import { ConfigError, describeValue } from '../errors.ts';
import { checkOptions, optionKeys, stringList } from '../options.ts';
import { discoveryIssuers } from '../pool/issuers.ts';
import { checkUrl } from '../pool/url.ts';

/** What an API says about itself in its protected-resource metadata. */
export interface ProtectedResourceOptions {
  /**
   * The public URL clients call, exactly as they call it (`https://api.example.com/mcp`): behind a
   * proxy the verifier cannot know it, and clients drop metadata whose `resource` differs from the
   * URL they used. `https:` (`http:` on loopback only), no query, no fragment, no trailing `/` after
   * a path. An MCP server sets its verifier's `audience` to this same string.
   */
  resource: string;
  /** `scopes_supported`: the scopes a client may ask for to call this API (clients request them all). */
  scopes?: readonly string[];
  /**
   * `authorization_servers`: issuer URLs. Default: the issuer of each pool the verifier accepts, in
   * the form Cognito's discovery document names. Required when `verifier` is not a
   * `CognitoVerifier` or its config.
   */
  authorizationServers?: readonly string[];
  /** `resource_name`: a name to show users. */
  resourceName?: string;
  /** `resource_documentation`: a URL of documentation for developers. */
  resourceDocumentation?: string;
}

/** The metadata document (RFC 9728 §2), as served. */
export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  scopes_supported?: string[];
  bearer_methods_supported: ['header'];
  resource_name?: string;
  resource_documentation?: string;
}

/** A checked protected-resource description: the document, where it is served, and its answer. */
export interface ProtectedResource {
  readonly metadata: ProtectedResourceMetadata;
  /** The path the document is served at: `/.well-known/oauth-protected-resource/mcp`. */
  readonly path: string;
  /** Its absolute URL, named by `resource_metadata` in challenges. */
  readonly url: string;
  /** The answer to `GET` (a `HEAD` sends the headers only). */
  readonly response: {
    readonly status: 200;
    readonly headers: Readonly<Record<string, string>>;
    readonly body: string;
  };
}

/** The well-known segment of RFC 9728 §3. */
export const PROTECTED_RESOURCE_WELL_KNOWN = '/.well-known/oauth-protected-resource';

const OPTION_KEYS = optionKeys<ProtectedResourceOptions>(
  'protectedResource',
  {
    resource: true,
    scopes: true,
    authorizationServers: true,
    resourceName: true,
    resourceDocumentation: true,
  },
  {
    issuer: "name it in authorizationServers (by default the issuers of the verifier's pools)",
    audience: "it belongs in the verifier config: set the verifier's audience to the same URL as resource",
  },
);

// RFC 6749 §3.3: a scope token is printable ASCII without space, `"` or `\`.
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/**
 * The RFC 9728 §3.1 location of the metadata of `resource`: the well-known segment goes between
 * the host and the path.
 *
 * ```ts
 * protectedResourceMetadataUrl('https://api.example.com/mcp');
 * // 'https://api.example.com/.well-known/oauth-protected-resource/mcp'
 * ```
 */
export function protectedResourceMetadataUrl(resource: string): string {
  const url = new URL(resource);
  return `${url.origin}${PROTECTED_RESOURCE_WELL_KNOWN}${url.pathname === '/' ? '' : url.pathname}`;
}

function checkResource(name: string, value: unknown): string {
  const resource = checkUrl(name, value);
  const url = new URL(resource);
  if (url.search !== '' || resource.includes('?')) {
    throw new ConfigError(
      `${name} must not have a query (RFC 9728 resource identifiers), got ${describeValue(value)}`,
    );
  }
  if (url.hash !== '' || resource.includes('#')) {
    throw new ConfigError(`${name} must not have a fragment, got ${describeValue(value)}`);
  }
  if (url.pathname !== '/' && url.pathname.endsWith('/')) {
    throw new ConfigError(
      `${name} must not end with "/" after a path (clients drop it when they look for the metadata), got ${describeValue(value)}`,
    );
  }
  return resource;
}

function optionalText(name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new ConfigError(`${name} must be a non-empty string`);
  return value;
}

/**
 * Check protected-resource options and build the document. `issuers` are the issuers the verifier
 * accepts (`undefined` when the verifier is not ours): the default `authorization_servers`.
 * Throws {@link ConfigError} naming the mistake, prefixed by `where`.
 *
 * ```ts
 * const described = protectedResource({ resource: 'https://api.example.com/mcp', scopes: ['mcp/tools'] }, verifier.issuers.map((i) => i.issuer), 'cognitoAuth()');
 * described.path; // '/.well-known/oauth-protected-resource/mcp'
 * ```
 */
export function protectedResource(
  options: ProtectedResourceOptions,
  issuers: readonly string[] | undefined,
  where: string,
): ProtectedResource {
  const name = `${where}: protectedResource`;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ConfigError(`${name} must be an object with at least "resource"`);
  }
  checkOptions({ ...OPTION_KEYS, what: name }, options);
  const resource = checkResource(`${name}.resource`, options.resource);
  const scopes =
    options.scopes === undefined ? undefined : stringList(`${name}.scopes`, options.scopes as unknown);
  const badScope = scopes?.find((scope) => !SCOPE_TOKEN.test(scope));
  if (badScope !== undefined) {
    throw new ConfigError(
      `${name}.scopes: ${JSON.stringify(badScope)} is not a scope (printable ASCII without spaces, " or \\)`,
    );
  }
  let servers: string[];
  if (options.authorizationServers !== undefined) {
    servers = stringList(`${name}.authorizationServers`, options.authorizationServers as unknown).map(
      (server, index) => checkUrl(`${name}.authorizationServers[${index}]`, server),
    );
  } else if (issuers !== undefined && issuers.length > 0) {
    servers = discoveryIssuers(issuers);
  } else {
    throw new ConfigError(
      `${name}.authorizationServers is required: the verifier is not a CognitoVerifier or its config, so its issuers are unknown`,
    );
  }
  const resourceName = optionalText(`${name}.resourceName`, options.resourceName);
  const resourceDocumentation =
    options.resourceDocumentation === undefined
      ? undefined
      : checkUrl(`${name}.resourceDocumentation`, options.resourceDocumentation);

  const metadata: ProtectedResourceMetadata = {
    resource,
    authorization_servers: servers,
    ...(scopes === undefined ? {} : { scopes_supported: scopes }),
    bearer_methods_supported: ['header'],
    ...(resourceName === undefined ? {} : { resource_name: resourceName }),
    ...(resourceDocumentation === undefined ? {} : { resource_documentation: resourceDocumentation }),
  };
  const url = protectedResourceMetadataUrl(resource);
  return {
    metadata,
    path: new URL(url).pathname,
    url,
    response: {
      status: 200,
      headers: {
        'content-type': 'application/json',
        // The document changes only with a deployment; an hour spares clients a request per connection.
        'cache-control': 'public, max-age=3600',
        // Public by design: browser-based clients (MCP inspectors) read it from other origins.
        'access-control-allow-origin': '*',
      },
      body: JSON.stringify(metadata),
    },
  };
}

/**
 * The `scope` of a 403 challenge (RFC 6750 §3) for a token that lacks scopes: the token's own
 * scopes, then the ones the failed check names, so that a client asking again for all of them
 * keeps what it had (the MCP authorization spec's advice). Tokens outside the RFC 6749 character
 * set are left out; `undefined` when nothing remains.
 */
export function challengeScope(granted: readonly string[], required: readonly string[]): string | undefined {
  const scopes = [...new Set([...granted, ...required])].filter((scope) => SCOPE_TOKEN.test(scope));
  return scopes.length === 0 ? undefined : scopes.join(' ');
}

/**
 * Whether a request asks for the document: `GET` or `HEAD` on its path exactly (`url` is the
 * request target, the query ignored).
 */
export function asksForMetadata(
  described: ProtectedResource,
  method: string | undefined,
  url: string | undefined,
): boolean {
  return (method === 'GET' || method === 'HEAD') && (url ?? '').split('?', 1)[0] === described.path;
}

/** The {@link ProtectedResource} of an adapter, or the mistake of asking for it without the option. */
export function describedResource(
  described: ProtectedResource | undefined,
  where: string,
): ProtectedResource {
  if (described === undefined) {
    throw new ConfigError(`${where}: resourceMetadata() needs the protectedResource option`);
  }
  return described;
}

/** The option keys checked here (read by the service config schema). */
export { OPTION_KEYS as PROTECTED_RESOURCE_OPTION_KEYS };
