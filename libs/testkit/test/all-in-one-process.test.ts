import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { startAllInOneProcess } from '../src/all-in-one-process.js';

test('an all-in-one that cannot bind a port it was given fails with the reason, not a wait for ready', async () => {
  const squatter = createServer();
  await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
  const taken = (squatter.address() as { port: number }).port;
  try {
    await assert.rejects(
      startAllInOneProcess({ env: { SMTP_MX_PORT: String(taken) } }),
      (error: Error) => /exited .* before ready/s.test(error.message) && /EADDRINUSE/.test(error.message),
    );
  } finally {
    squatter.close();
  }
});
