// Mints Cognito-shaped tokens on a worker thread with the plain-JS build of the test kit:
// 100 000 RSA signatures take a minute on one core, so the benchmark spreads them over every core.
import { createPrivateKey } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';

const { testingUrl, privateKeyPem, kid, kind, count, userPoolId, clientId } = workerData;
const { mintAccessToken, mintIdToken } = await import(testingUrl);
const key = { kid, privateKey: createPrivateKey(privateKeyPem) };
const mint = kind === 'id' ? mintIdToken : mintAccessToken;
const tokens = [];
for (let i = 0; i < count; i++) tokens.push(mint({ key, userPoolId, clientId, groups: ['readers'] }));
parentPort.postMessage(tokens);
