import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import type { Express } from 'express';
import express4 from 'express4';
import { expressSuiteApp } from '../helpers/adapter-apps.ts';
import { runAdapterSuite } from '../helpers/adapter-suite.ts';

// The middleware promises to work on Express 4 as well: the same suite, on the real Express 4.
test('the express4 dev dependency really is Express 4', () => {
  const { version } = createRequire(import.meta.url)('express4/package.json') as { version: string };
  assert.match(version, /^4\./);
});

runAdapterSuite('express 4', expressSuiteApp(express4 as () => Express));
