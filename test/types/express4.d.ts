// Express 4, installed as `express4` to run the adapter suite on it too; same API as far as the adapter goes.
declare module 'express4' {
  import type { Express } from 'express';
  const createApp: () => Express;
  export default createApp;
}
