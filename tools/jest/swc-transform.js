// One transform for every jest config: SWC with the same options the runtime uses (.swcrc),
// including legacy decorators and decorator metadata that NestJS dependency injection needs.
const fs = require('node:fs');
const path = require('node:path');

const swcrc = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '.swcrc'), 'utf8'));
delete swcrc.$schema;

module.exports = { '^.+\\.ts$': ['@swc/jest', { ...swcrc, swcrc: false }] };
