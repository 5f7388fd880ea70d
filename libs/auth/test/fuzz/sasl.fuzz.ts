import assert from 'node:assert/strict';
import { fuzzTarget } from '@correo/testkit/fuzz';
import { SASL_MECHANISMS, startSasl, type SaslStep } from '../../src/index.js';

/** The client's lines of one exchange: the input split at CRLF, as a line protocol would hand them on. */
function lines(input: Buffer): string[] {
  return input.toString('latin1').split('\r\n');
}

function checkStep(step: SaslStep): void {
  if (step.kind === 'malformed') assert.ok(step.reason.length > 0, 'a refusal says why');
  if (step.kind === 'credentials') {
    const { login, password, authorizationId } = step.credentials;
    assert.ok(login.length > 0 && password.length > 0, 'no empty login or password gets through');
    assert.ok(![login, password, authorizationId].some((f) => f.includes('\0')), 'no NUL inside a field');
  }
}

/**
 * Every mechanism's server side over arbitrary client lines, with and without the first line as
 * an initial response: each step is a challenge, credentials, a cancel or a refusal with a reason,
 * never a throw; once an exchange ends, later lines are refused.
 */
export default fuzzTarget({
  coverage: ['/auth/src/sasl'],
  maxInputBytes: 2 * 1024,
  dictionary: ['*', '=', '\r\n', 'AGFuYQBwdw==', 'YW5h', 'cHc=', 'AA==', '/w==', 'PLAIN', 'LOGIN'],
  run(input) {
    const [first = '', ...rest] = lines(input);
    for (const mechanism of SASL_MECHANISMS) {
      for (const initial of [first, undefined]) {
        const started = startSasl(mechanism, initial);
        assert.ok(started);
        let step = started.step;
        checkStep(step);
        for (const line of initial === undefined ? [first, ...rest] : rest) {
          const over = step.kind !== 'challenge';
          step = started.exchange.respond(line);
          checkStep(step);
          if (over) assert.equal(step.kind, 'malformed', 'an exchange that is over takes no more lines');
        }
      }
    }
  },
});
