import { faultTest } from './fault-matrix.ts';

faultTest('older-rdb');
