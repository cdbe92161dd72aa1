/**
 * Debian's chromium, headless through playwright-core, trusting a test CA the way a real browser
 * trusts a corporate root: the CA is installed with `certutil` in the NSS database under the
 * browser's own HOME. No certificate error is ignored, so `Secure` and `__Host-` cookies and the
 * TLS handshake are tested as shipped (`--ignore-certificate-errors-spki-list` would instead pin
 * one key and skip the chain check).
 *
 * ```ts
 * const context = await launchChromium(dir, caPemFile);
 * t.after(() => context.close());
 * const page = await context.newPage();
 * ```
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Whether chromium, certutil and openssl are installed (the browser tests skip otherwise). */
export const chromiumAvailable =
  existsSync(CHROMIUM) && existsSync('/usr/bin/certutil') && existsSync('/usr/bin/openssl');

/**
 * A headless chromium with its HOME and profile under `dir`, trusting the CA in `caFile` (PEM).
 * Close the returned context to end the browser process.
 */
export async function launchChromium(dir: string, caFile: string): Promise<BrowserContext> {
  const home = join(dir, 'home');
  const nss = join(home, '.pki', 'nssdb');
  mkdirSync(nss, { recursive: true });
  execFileSync('certutil', ['-d', `sql:${nss}`, '-N', '--empty-password']);
  execFileSync('certutil', [
    '-d',
    `sql:${nss}`,
    '-A',
    '-t',
    'C,,',
    '-n',
    'cognito-jwt-test-ca',
    '-i',
    caFile,
  ]);
  return chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    env: { ...process.env, HOME: home },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
