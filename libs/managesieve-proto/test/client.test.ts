import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  byeResponse,
  capabilitiesOf,
  capabilityLines,
  noResponse,
  okResponse,
  ResponseCollector,
  scriptContent,
  scriptListLines,
  scriptListOf,
} from '../src/index.js';
import type { ManageSieveResponse } from '../src/index.js';
import { LIMITS, readAll } from './helpers.js';

function responses(wire: Buffer, size = 5): ManageSieveResponse[] {
  const collector = new ResponseCollector();
  const out: ManageSieveResponse[] = [];
  for (const line of readAll(wire, size, { ...LIMITS, maxTokens: 64 }, 'responses')) {
    const response = collector.push(line);
    if (response) out.push(response);
  }
  return out;
}

describe('server responses read back by the client side', () => {
  test('status lines with codes and text', () => {
    const wire = Buffer.concat([
      okResponse('fine', { name: 'TAG', args: ['t"1'] }),
      noResponse('line 3, column 7: unexpected "}"', { name: 'QUOTA/MAXSIZE' }),
      byeResponse('bye\r\nnow'),
      okResponse(),
    ]);
    const [ok, no, bye, bare] = responses(wire);
    assert.deepEqual(ok, { status: 'OK', code: { name: 'TAG', args: ['t"1'] }, text: 'fine', data: [] });
    assert.deepEqual(no, {
      status: 'NO',
      code: { name: 'QUOTA/MAXSIZE' },
      text: 'line 3, column 7: unexpected "}"',
      data: [],
    });
    assert.deepEqual(bye?.text, 'bye\r\nnow');
    assert.deepEqual(bare, { status: 'OK', code: undefined, text: undefined, data: [] });
  });

  test('capabilities, script lists and script content', () => {
    const wire = Buffer.concat([
      capabilityLines([['IMPLEMENTATION', 'correo'], ['SIEVE', 'fileinto vacation'], ['STARTTLS']]),
      okResponse(),
      scriptListLines([
        { name: 'a', active: false },
        { name: 'ü "b"', active: true },
      ]),
      okResponse(),
      scriptContent('require "fileinto";\r\nfileinto "x";\r\n'),
      okResponse(),
    ]);
    const [caps, list, script] = responses(wire, 3);
    assert.deepEqual(
      [...capabilitiesOf(caps!)],
      [
        ['IMPLEMENTATION', 'correo'],
        ['SIEVE', 'fileinto vacation'],
        ['STARTTLS', ''],
      ],
    );
    assert.deepEqual(scriptListOf(list!), [
      { name: 'a', active: false },
      { name: 'ü "b"', active: true },
    ]);
    assert.deepEqual(script!.data, [[{ kind: 'string', value: 'require "fileinto";\r\nfileinto "x";\r\n' }]]);
  });
});
