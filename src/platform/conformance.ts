/**
 * Compile-time proof that both implementations of `#platform` export everything {@link Platform}
 * lists, with the same signatures (each with its own key types). Nothing here runs.
 *
 * ```ts
 * type Checked = NodePlatformChecked; // a compile error here means node.ts drifted from types.ts
 * ```
 */
import type * as node from './node.ts';
import type { Platform } from './types.ts';
import type * as web from './web.ts';

type Conforms<Module extends Platform<RsaKey, EcKey, AesKey>, RsaKey, EcKey, AesKey> = Module;

/** `./node.ts`, checked. */
export type NodePlatformChecked = Conforms<typeof node, node.RsaKey, node.EcKey, node.AesKey>;
/** `./web.ts`, checked. */
export type WebPlatformChecked = Conforms<typeof web, web.RsaKey, web.EcKey, web.AesKey>;
