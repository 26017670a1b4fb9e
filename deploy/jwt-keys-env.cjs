// Prints a fresh RS256 key pair as .env lines for docker compose:
//   node deploy/jwt-keys-env.cjs >> .env
// Each PEM is written on one line with literal \n escapes (compose .env files are line based);
// loadJwtKeys in packages/common turns the escapes back into newlines.
'use strict';
const { generateKeyPairSync } = require('node:crypto');

const { privateKey, publicKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});
const oneLine = (pem) => pem.trim().replace(/\n/g, '\\n');
process.stdout.write(`JWT_PRIVATE_KEY=${oneLine(privateKey)}\nJWT_PUBLIC_KEY=${oneLine(publicKey)}\n`);
