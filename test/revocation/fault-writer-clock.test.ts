import { faultTest } from './fault-matrix.ts';

faultTest('writer-clock');
