import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { authenticationSummary } from '../src/authentication-results.js';
import { Selection } from '../web/src/selection.js';

const field = (line: string) => ({ key: line.slice(0, line.indexOf(':')).toLowerCase(), line });

describe('Authentication-Results summary: only our own authserv-id counts', () => {
  test('pass and fail read from our field, comments and folding ignored', () => {
    const summary = authenticationSummary(
      [
        field('Received: from x'),
        field(
          'Authentication-Results: MX.Correo.Test (our mx);\r\n\tspf=pass (sender permitted) smtp.mailfrom=a@b.test;\r\n\tdkim=fail header.d=b.test;\r\n\tdkim=pass header.d=b.test;\r\n\tdmarc=fail (p=reject) header.from=b.test',
        ),
      ],
      'mx.correo.test',
    );
    assert.deepEqual(summary, { spf: 'pass', dkim: 'pass', dmarc: 'fail' });
  });

  test("another host's field is no evidence; ours is found below it", () => {
    const lines = [
      field('Authentication-Results: mx.elsewhere.test; spf=pass; dkim=pass; dmarc=pass'),
      field('Authentication-Results: mx.correo.test; spf=softfail; dmarc=none'),
    ];
    assert.deepEqual(authenticationSummary(lines, 'mx.correo.test'), {
      spf: 'softfail',
      dkim: null,
      dmarc: 'none',
    });
    assert.equal(authenticationSummary(lines.slice(0, 1), 'mx.correo.test'), null);
  });

  test('a look-alike id (a prefix, a quoted comment) is not ours; no id configured: no summary', () => {
    const lines = [
      field('Authentication-Results: mx.correo.test.evil; dmarc=pass'),
      field('Authentication-Results: (mx.correo.test) evil.test; dmarc=pass'),
      field('Authentication-Results: "mx.correo.test"; dmarc=pass'),
    ];
    assert.equal(authenticationSummary(lines, 'mx.correo.test'), null);
    assert.equal(
      authenticationSummary([field('Authentication-Results: mx.correo.test; dmarc=pass')], undefined),
      null,
    );
  });
});

describe('message list selection', () => {
  const order = [10, 9, 8, 7, 6];
  test('plain click picks nothing and anchors; shift picks the range; ctrl toggles', () => {
    const selection = new Selection();
    selection.focus(9);
    assert.equal(selection.size, 0);
    selection.click(7, { shift: true, toggle: false }, order);
    assert.deepEqual([...selection.uids].sort(), [7, 8, 9]);
    selection.click(8, { shift: false, toggle: true }, order);
    assert.deepEqual([...selection.uids].sort(), [7, 9]);
    selection.click(6, { shift: true, toggle: true }, order);
    assert.deepEqual([...selection.uids].sort(), [6, 7, 8, 9]);
    selection.keepOnly([10, 9, 6]);
    assert.deepEqual([...selection.uids].sort(), [6, 9]);
    selection.all(order);
    assert.equal(selection.size, 5);
  });
});
