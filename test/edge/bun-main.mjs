// Bun: read the input file named on the command line, print the outcomes as JSON.
import { runVectors } from './runner.mjs';

const input = await Bun.file(process.argv[2]).json();
console.log(JSON.stringify(await runVectors(input)));
