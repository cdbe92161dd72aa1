// `node --import ./test/helpers/hide-packages.mjs`: the packages named (comma-separated) in
// HIDE_PACKAGES cannot be imported in this process, exactly as when they are not installed
// (ERR_MODULE_NOT_FOUND from the resolver), while node_modules stays as it is for other tests.
import { register } from 'node:module';

register(new URL('./hide-packages-hooks.mjs', import.meta.url), { data: process.env.HIDE_PACKAGES ?? '' });
