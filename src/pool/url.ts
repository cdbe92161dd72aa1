import { ConfigError, describeValue } from '../errors.ts';

/** `https:` anywhere, `http:` only on loopback (emulators and tests). */
export function checkUrl(name: string, value: unknown): string {
  if (typeof value !== 'string')
    throw new ConfigError(`${name} must be a URL string, got ${describeValue(value)}`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${name} is not a valid URL: ${describeValue(value)}`);
  }
  if (url.username || url.password) throw new ConfigError(`${name} must not carry credentials`);
  if (url.protocol === 'https:') return value;
  if (url.protocol === 'http:' && isLoopback(url.hostname)) return value;
  throw new ConfigError(
    `${name} must use https: (http: is accepted for loopback hosts only), got ${describeValue(value)}`,
  );
}

function isLoopback(hostname: string): boolean {
  return (
    hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname)
  );
}
