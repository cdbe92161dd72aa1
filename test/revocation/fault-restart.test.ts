import { faultTest } from './fault-matrix.ts';

faultTest('restart');
