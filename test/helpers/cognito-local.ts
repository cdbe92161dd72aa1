/**
 * Runs the `cognito-local` emulator (npm `cognito-local`) as a child process on a loopback port,
 * for end-to-end tests that need real tokens from a Cognito-like server.
 *
 * ```ts
 * const cognito = await startCognitoLocal();
 * t.after(() => cognito.stop());
 * const pool = await cognito.createPool('e2e');
 * const clientId = await cognito.createClient(pool.userPoolId);
 * await cognito.createGroup(pool.userPoolId, 'admins');
 * const user = await cognito.createUser(pool.userPoolId, 'ada@example.com', 'Passw0rd!', ['admins']);
 * const tokens = await cognito.signIn(clientId, user.username, 'Passw0rd!');
 * const verifier = new CognitoVerifier({ userPoolId: pool.userPoolId, issuer: pool.issuer, clientId, tokenUse: 'id' });
 * await verifier.verify(tokens.idToken);
 * ```
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
  CreateGroupCommand,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  InitiateAuthCommand,
} from '@aws-sdk/client-cognito-identity-provider';

/** A user pool created in the emulator, with what a verifier needs to accept its tokens. */
export interface LocalPool {
  /** `local_XXXXXXXX`: cognito-local pool ids carry no region. */
  readonly userPoolId: string;
  /** `http://127.0.0.1:{port}/{userPoolId}`: the `iss` of the pool's tokens; pass it as the verifier's `issuer`. */
  readonly issuer: string;
  /** `{issuer}/.well-known/jwks.json`, served by the emulator (one fixed key, kid `CognitoLocal`). */
  readonly jwksUri: string;
}

/** A user created by {@link CognitoLocal.createUser}. */
export interface LocalUser {
  /** The user's `sub` claim. */
  readonly sub: string;
  /** The name to sign in with (`USERNAME`); pools use email as username attribute, so this equals `sub`. */
  readonly username: string;
  readonly email: string;
}

/** What `InitiateAuth` returned. */
export interface LocalTokens {
  readonly idToken: string;
  readonly accessToken: string;
  /** cognito-local's refresh token is a signed 3-part JWT, unlike Cognito's 5-part JWE. */
  readonly refreshToken: string;
}

/** A running cognito-local; call {@link CognitoLocal.stop} when done (a `t.after` hook is the right place). */
export interface CognitoLocal {
  /** `http://127.0.0.1:{port}` */
  readonly endpoint: string;
  readonly port: number;
  /** The SDK client talking to the emulator, for calls the helpers below do not cover. */
  readonly sdk: CognitoIdentityProviderClient;
  /** The emulator's recent log output (stdout and stderr), for diagnosing a failed test. */
  readonly logs: () => string;
  /** Create a user pool (email as username attribute, the emulator's default). */
  createPool(name?: string): Promise<LocalPool>;
  /** Create an app client without a secret, allowed to use `USER_PASSWORD_AUTH` and refresh; returns its id. */
  createClient(userPoolId: string, name?: string): Promise<string>;
  createGroup(userPoolId: string, groupName: string): Promise<void>;
  /**
   * Create a confirmed user with a permanent password (no e-mail is sent) and add it to `groups`
   * (which must exist already).
   */
  createUser(
    userPoolId: string,
    email: string,
    password: string,
    groups?: readonly string[],
  ): Promise<LocalUser>;
  /** `InitiateAuth` with `USER_PASSWORD_AUTH`. */
  signIn(clientId: string, username: string, password: string): Promise<LocalTokens>;
  /** `InitiateAuth` with `REFRESH_TOKEN_AUTH`: fresh ID and access tokens (no new refresh token). */
  refresh(clientId: string, refreshToken: string): Promise<Omit<LocalTokens, 'refreshToken'>>;
  /** Stop the emulator (SIGTERM, then SIGKILL), close the SDK client and delete the state folder. Idempotent. */
  stop(): Promise<void>;
}

export interface StartCognitoLocalOptions {
  /** How long to wait for the emulator to answer `/health`; default 30 s (the machine may be busy). */
  startTimeoutMs?: number;
}

const require = createRequire(import.meta.url);
const LOG_TAIL_CHARS = 16 * 1024;
const STOP_GRACE_MS = 3000;

// The child exits when its stdin closes, i.e. when this process dies for any reason (even SIGKILL),
// so a crashed test run never leaves an emulator behind.
const LAUNCHER = `
process.stdin.on('data', () => {});
process.stdin.on('end', () => process.exit(0));
require(process.argv[1]);
`;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

function required<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) throw new Error(`cognito-local returned no ${what}`);
  return value;
}

interface Child {
  process: ChildProcess;
  exited: Promise<void>;
  logs: () => string;
}

function launch(cwd: string, port: number): Child {
  const child = spawn(process.execPath, ['-e', LAUNCHER, require.resolve('cognito-local/lib/bin/start.js')], {
    cwd,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: '1',
      NO_COLOR: '1',
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  // Unreferenced: a test that forgets stop() still ends, and the exit hook or the stdin watchdog kills the child.
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr])
    (stream as { unref?: () => void } | null)?.unref?.();
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-LOG_TAIL_CHARS);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  return { process: child, exited, logs: () => tail };
}

async function waitUntilHealthy(child: Child, endpoint: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let gone = false;
  void child.exited.then(() => {
    gone = true;
  });
  while (Date.now() < deadline && !gone) {
    try {
      const response = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1000) });
      await response.body?.cancel();
      if (response.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

async function terminate(child: Child): Promise<void> {
  const { process: proc } = child;
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill('SIGTERM');
  const killer = setTimeout(() => proc.kill('SIGKILL'), STOP_GRACE_MS);
  await child.exited;
  clearTimeout(killer);
}

/**
 * Start cognito-local on a free loopback port, in a fresh temporary folder (its state lives in
 * `.cognito/` of its working directory), and wait until it answers.
 *
 * ```ts
 * const cognito = await startCognitoLocal();
 * try {
 *   const pool = await cognito.createPool();
 *   // ...
 * } finally {
 *   await cognito.stop();
 * }
 * ```
 */
export async function startCognitoLocal(options: StartCognitoLocalOptions = {}): Promise<CognitoLocal> {
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  const cwd = await mkdtemp(join(tmpdir(), 'cognito-local-'));
  let child: Child | undefined;
  let port = 0;
  // Another process may take the free port between the probe and the child's listen: try again.
  for (let attempt = 1; attempt <= 3 && !child; attempt++) {
    port = await freePort();
    const candidate = launch(cwd, port);
    if (await waitUntilHealthy(candidate, `http://127.0.0.1:${port}`, timeoutMs)) {
      child = candidate;
    } else {
      await terminate(candidate);
      if (attempt === 3) {
        await rm(cwd, { recursive: true, force: true });
        throw new Error(`cognito-local did not start on port ${port}; its output:\n${candidate.logs()}`);
      }
    }
  }
  const running = child!;
  const killOnExit = () => {
    running.process.kill('SIGKILL');
    try {
      rmSync(cwd, { recursive: true, force: true });
    } catch {
      // the dying child may still be writing there; a leftover temp folder is harmless
    }
  };
  process.once('exit', killOnExit);

  const endpoint = `http://127.0.0.1:${port}`;
  // The SDK warns once per process that it will drop Node 20 in 2027: noise in every test run.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const sdk = new CognitoIdentityProviderClient({
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  let stopping: Promise<void> | undefined;

  const initiateAuth = async (
    clientId: string,
    flow: 'USER_PASSWORD_AUTH' | 'REFRESH_TOKEN_AUTH',
    parameters: Record<string, string>,
  ) => {
    const { AuthenticationResult: result, ChallengeName } = await sdk.send(
      new InitiateAuthCommand({ ClientId: clientId, AuthFlow: flow, AuthParameters: parameters }),
    );
    if (!result) throw new Error(`cognito-local answered ${flow} with the challenge ${ChallengeName}`);
    return result;
  };

  return {
    endpoint,
    port,
    sdk,
    logs: running.logs,
    async createPool(name = 'cognito-jwt-e2e') {
      const { UserPool } = await sdk.send(new CreateUserPoolCommand({ PoolName: name }));
      const userPoolId = required(UserPool?.Id, 'user pool id');
      const issuer = `${endpoint}/${userPoolId}`;
      return { userPoolId, issuer, jwksUri: `${issuer}/.well-known/jwks.json` };
    },
    async createClient(userPoolId, name = 'cognito-jwt-e2e-client') {
      const { UserPoolClient } = await sdk.send(
        new CreateUserPoolClientCommand({
          UserPoolId: userPoolId,
          ClientName: name,
          ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
        }),
      );
      return required(UserPoolClient?.ClientId, 'client id');
    },
    async createGroup(userPoolId, groupName) {
      await sdk.send(new CreateGroupCommand({ UserPoolId: userPoolId, GroupName: groupName }));
    },
    async createUser(userPoolId, email, password, groups = []) {
      const { User } = await sdk.send(
        new AdminCreateUserCommand({
          UserPoolId: userPoolId,
          Username: email,
          MessageAction: 'SUPPRESS',
          UserAttributes: [{ Name: 'email_verified', Value: 'true' }],
        }),
      );
      const username = required(User?.Username, 'username');
      const sub = required(User?.Attributes?.find((attribute) => attribute.Name === 'sub')?.Value, 'sub');
      await sdk.send(
        new AdminSetUserPasswordCommand({
          UserPoolId: userPoolId,
          Username: username,
          Password: password,
          Permanent: true,
        }),
      );
      for (const group of groups) {
        await sdk.send(
          new AdminAddUserToGroupCommand({ UserPoolId: userPoolId, Username: username, GroupName: group }),
        );
      }
      return { sub, username, email };
    },
    async signIn(clientId, username, password) {
      const result = await initiateAuth(clientId, 'USER_PASSWORD_AUTH', {
        USERNAME: username,
        PASSWORD: password,
      });
      return {
        idToken: required(result.IdToken, 'ID token'),
        accessToken: required(result.AccessToken, 'access token'),
        refreshToken: required(result.RefreshToken, 'refresh token'),
      };
    },
    async refresh(clientId, refreshToken) {
      const result = await initiateAuth(clientId, 'REFRESH_TOKEN_AUTH', { REFRESH_TOKEN: refreshToken });
      return {
        idToken: required(result.IdToken, 'ID token'),
        accessToken: required(result.AccessToken, 'access token'),
      };
    },
    stop() {
      stopping ??= (async () => {
        sdk.destroy();
        await terminate(running);
        process.removeListener('exit', killOnExit);
        await rm(cwd, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}
