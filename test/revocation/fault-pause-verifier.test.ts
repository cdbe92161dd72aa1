import { faultTest } from './fault-matrix.ts';

faultTest('pause-verifier');
