// The API contract through the web transport: a real `vramscope serve` process, real WebSocket clients.
// The web server's own defences (token, Host, Origin, traversal, frames, bursts) are tested with the
// other security probes in api-security.test.ts.
import { describe } from 'vitest';
import { defineCaptureContractSuite, defineContractSuite } from '../support/api-contract-suite.ts';
import { webTransport } from '../support/api-transports.ts';

describe('contract over the web transport', () => {
  defineContractSuite(() => webTransport());
});

describe('captures over the web transport (captures allowed)', () => {
  defineCaptureContractSuite(() => webTransport(['--allow-capture']));
});
