import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ReceiverEvent, ReceiverOptions } from '../src/index.js';
import { CommandReceiver, FrameError, literalAtLineEnd, parseCommand } from '../src/index.js';

/** Everything the receiver yields for `input` fed in the given pieces; events shown as short text. */
function drain(receiver: CommandReceiver, input: Buffer | string): string[] {
  receiver.push(Buffer.from(input));
  const out: string[] = [];
  let event: ReceiverEvent | null;
  while ((event = receiver.next())) out.push(show(event));
  return out;
}

function show(event: ReceiverEvent): string {
  switch (event.type) {
    case 'command':
      return `command ${event.bytes.toString('latin1')}`;
    case 'line':
      return `line ${event.bytes.toString('latin1')}`;
    case 'continue':
      return `continue ${event.size}`;
    case 'error':
      return `error ${event.error.tag} ${event.error.code} ${event.error.kind}`;
  }
}

function receive(input: string, options?: ReceiverOptions): string[] {
  return drain(new CommandReceiver(options), input);
}

describe('literal headers at a line end', () => {
  test('forms of RFC 9051, RFC 7888 and RFC 3516', () => {
    assert.deepEqual(literalAtLineEnd(Buffer.from('a LOGIN {5}')), { size: 5, nonSync: false });
    assert.deepEqual(literalAtLineEnd(Buffer.from('a LOGIN {5+}')), { size: 5, nonSync: true });
    assert.deepEqual(literalAtLineEnd(Buffer.from('a APPEND x ~{0}')), { size: 0, nonSync: false });
    assert.equal(literalAtLineEnd(Buffer.from('a LOGIN {x}')), null);
    assert.equal(literalAtLineEnd(Buffer.from('a LOGIN "{5}"')), null);
    assert.equal(literalAtLineEnd(Buffer.from('}')), null);
    assert.equal(literalAtLineEnd(Buffer.from('{99999999999999999999}'))?.size, Infinity);
  });
});

describe('CommandReceiver', () => {
  test('splits lines, accepts bare LF, keeps pipelined commands in order', () => {
    assert.deepEqual(receive('a1 NOOP\r\na2 CAPABILITY\na3 LOGOUT\r\n'), [
      'command a1 NOOP',
      'command a2 CAPABILITY',
      'command a3 LOGOUT',
    ]);
    assert.deepEqual(receive('a1 NOOP\r\na2 CAPA'), ['command a1 NOOP']);
  });

  test('a synchronizing literal asks for a continuation, then the command completes', () => {
    const receiver = new CommandReceiver();
    assert.deepEqual(drain(receiver, 'A001 LOGIN {11}\r\n'), ['continue 11']);
    assert.deepEqual(drain(receiver, 'FRED FOOBAR {7}\r\n'), ['continue 7']);
    assert.deepEqual(drain(receiver, 'fat man\r\n'), [
      'command A001 LOGIN {11}\r\nFRED FOOBAR {7}\r\nfat man',
    ]);
    const parsed = parseCommand(Buffer.from('A001 LOGIN {11}\r\nFRED FOOBAR {7}\r\nfat man'));
    assert.deepEqual(parsed.request, { command: 'LOGIN', username: 'FRED FOOBAR', password: 'fat man' });
  });

  test('non-synchronizing and binary literals need no continuation; literal bytes may hold CRLF and braces', () => {
    assert.deepEqual(receive('a APPEND x {9+}\r\nab\r\n{2}\r\n\r\nb NOOP\r\n'), [
      'command a APPEND x {9+}\r\nab\r\n{2}\r\n',
      'command b NOOP',
    ]);
    const receiver = new CommandReceiver();
    const events = drain(receiver, Buffer.concat([Buffer.from('a APPEND x ~{3}\r\n')]));
    assert.deepEqual(events, ['continue 3']);
    receiver.push(Buffer.from([0, 1, 2, 0x0d, 0x0a]));
    const done = receiver.next();
    assert.equal(done?.type, 'command');
    assert.deepEqual(done?.type === 'command' && [...done.bytes.subarray(-3)], [0, 1, 2]);
  });

  test('a line longer than the limit gives TOOBIG with the tag, and the stream recovers', () => {
    const long = `a1 LOGIN ${'x'.repeat(200)}\r\na2 NOOP\r\n`;
    assert.deepEqual(receive(long, { maxLineLength: 100 }), [
      'error a1 TOOBIG line-too-long',
      'command a2 NOOP',
    ]);
    // Without a line end in sight: refused early, the rest of the line is skipped as it arrives.
    const receiver = new CommandReceiver({ maxLineLength: 100 });
    assert.deepEqual(drain(receiver, `b1 SEARCH ${'y'.repeat(150)}`), ['error b1 TOOBIG line-too-long']);
    assert.deepEqual(drain(receiver, 'y'.repeat(500)), []);
    assert.deepEqual(drain(receiver, 'yyy\r\nb2 NOOP\r\n'), ['command b2 NOOP']);
  });

  test('a synchronizing literal above the limit is refused before the client sends it', () => {
    const receiver = new CommandReceiver({ maxLiteralSize: 10 });
    assert.deepEqual(drain(receiver, 'a APPEND INBOX {11}\r\n'), ['error a TOOBIG literal-too-big']);
    assert.deepEqual(drain(receiver, 'b NOOP\r\n'), ['command b NOOP']);
  });

  test('a non-synchronizing literal above the limit is refused and its bytes are skipped', () => {
    assert.deepEqual(
      receive('a APPEND INBOX {12+}\r\nb NOOP\r\nxxxx\r\nc NOOP\r\n', { maxLiteralSize: 10 }),
      ['error a TOOBIG literal-too-big', 'command c NOOP'],
    );
  });

  test('LITERAL-: {n+} above 4096 is refused, a synchronizing one of the same size is not', () => {
    const big = 'z'.repeat(5000);
    const options = { maxNonSyncLiteral: 4096 };
    assert.deepEqual(receive(`a APPEND INBOX {5000+}\r\n${big}\r\nb NOOP\r\n`, options), [
      'error a TOOBIG literal-too-big',
      'command b NOOP',
    ]);
    const receiver = new CommandReceiver(options);
    assert.deepEqual(drain(receiver, 'a APPEND INBOX {5000}\r\n'), ['continue 5000']);
    assert.deepEqual(drain(receiver, `${big}\r\n`), [`command a APPEND INBOX {5000}\r\n${big}`]);
  });

  test('the whole command is limited too (MULTIAPPEND)', () => {
    assert.deepEqual(
      receive('a APPEND x {6+}\r\nabcdef {6+}\r\nabcdef\r\nb NOOP\r\n', {
        maxLiteralSize: 8,
        maxCommandSize: 30,
      }),
      ['error a TOOBIG command-too-big', 'command b NOOP'],
    );
  });

  test('expectLine() takes the next line raw (AUTHENTICATE, IDLE DONE)', () => {
    const receiver = new CommandReceiver();
    assert.deepEqual(drain(receiver, 'a IDLE\r\n'), ['command a IDLE']);
    receiver.expectLine();
    assert.deepEqual(drain(receiver, 'DONE\r\nb NOOP {1}\r\n'), ['line DONE', 'continue 1']);
  });

  test('errors are FrameErrors, which are ParseErrors with code TOOBIG', () => {
    const receiver = new CommandReceiver({ maxLineLength: 5 });
    receiver.push(Buffer.from('abcdefgh\r\n'));
    const event = receiver.next();
    assert.equal(event?.type, 'error');
    if (event?.type === 'error') {
      assert.ok(event.error instanceof FrameError);
      assert.equal(event.error.name, 'ParseError');
      assert.match(event.error.message, /longer than 5 octets/);
      // A tag is read only from the first maxLineLength octets, ended by a space: what else arrived
      // depends on how TCP split the line (receiver-boundaries.test.ts).
      assert.equal(event.error.tag, null);
    }
    receiver.push(Buffer.from('ab NOOP x\r\n'));
    const tagged = receiver.next();
    assert.ok(tagged?.type === 'error' && tagged.error.tag === 'ab');
  });

  test('idle is true only between commands', () => {
    const receiver = new CommandReceiver();
    assert.equal(receiver.idle, true);
    drain(receiver, 'a LOGIN {3}\r\n');
    assert.equal(receiver.idle, false);
    drain(receiver, 'abc x\r\n');
    assert.equal(receiver.idle, true);
  });
});

describe('streamed literals and the literal budget', () => {
  test('a sink takes the octets as they arrive; the command reads the literal as {0} and lists the sink', () => {
    const got: string[] = [];
    const sink = {
      write: (chunk: Buffer) => void got.push(chunk.toString('latin1')),
      end: () => void got.push('<end>'),
      abort: () => void got.push('<abort>'),
    };
    const receiver = new CommandReceiver({
      streamLiteral: (firstLine, size) => (firstLine.includes('APPEND') && size > 3 ? sink : null),
    });
    receiver.push(Buffer.from('a APPEND INBOX (\\Seen) ~{6+}\r\nhel'));
    assert.equal(receiver.next(), null);
    receiver.push(Buffer.from('lo! {2+}\r\nhi\r\n'));
    const event = receiver.next();
    assert.ok(event?.type === 'command');
    assert.equal(event.bytes.toString('latin1'), 'a APPEND INBOX (\\Seen) ~{0}\r\n {2+}\r\nhi');
    assert.deepEqual(event.streamed, [sink]);
    assert.deepEqual(got, ['hel', 'lo!', '<end>']);
  });

  test('a refused command aborts its sinks; a literal the budget refuses is NO [LIMIT]', () => {
    const got: string[] = [];
    const sink = { write: () => {}, end: () => void got.push('end'), abort: () => void got.push('abort') };
    const streaming = new CommandReceiver({ maxLineLength: 40, streamLiteral: () => sink });
    drain(streaming, `a APPEND INBOX {3+}\r\nabc ${'x'.repeat(50)}\r\n`);
    assert.deepEqual(got, ['end', 'abort']);
    assert.deepEqual(receive('b LOGIN {5}\r\n', { admitLiteral: () => false }), [
      'error b LIMIT server-busy',
    ]);
  });
});
