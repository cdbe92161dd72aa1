// Deno: read the input file named on the command line, print the outcomes as JSON.
import { runVectors } from './runner.mjs';

const input = JSON.parse(await Deno.readTextFile(Deno.args[0]));
console.log(JSON.stringify(await runVectors(input)));
