import { decodedAddressList } from '@correo/mime';
import type { SieveSyntaxError } from './errors.js';
import type { Argument, Command, Test } from './parser.js';

/** Extensions this implementation runs; `require` of anything else is refused (RFC 5228 3.2). */
export const SUPPORTED_EXTENSIONS: readonly string[] = [
  'fileinto',
  'envelope',
  'copy',
  'mailbox',
  'subaddress',
  'imap4flags',
  'comparator-i;octet',
  'comparator-i;ascii-casemap',
  'variables',
  'vacation',
  'reject',
  'relational',
  'comparator-i;ascii-numeric',
  'body',
  'ereject',
  'encoded-character',
  'spamtest',
  'spamtestplus',
  'virustest',
  'date',
  'index',
];

export const COMPARATORS = ['i;octet', 'i;ascii-casemap', 'i;ascii-numeric'];

/** Variables one script may set (Pigeonhole's sieve_variables_max_scope_size). */
export const MAX_VARIABLES = 255;
/** A variable name (RFC 5229 3): identifier, no namespace. */
export const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

type Positional = 'string' | 'strings' | 'number';

interface TagSpec {
  /** Extension the tag needs. */
  ext?: string;
  /** The tag takes a value: `:comparator "i;octet"`, `:flags ["\\Seen"]`. */
  value?: 'string' | 'strings' | 'number';
  /** Tags of one group exclude each other (match types, address parts, :over/:under). */
  group?: string;
}

interface Spec {
  ext?: string;
  tags?: Record<string, TagSpec>;
  positional: Positional[];
  tests?: 'one' | 'list';
  /** Commands only: the command takes a block. */
  block?: boolean;
  /** Tag groups one of which must be present (size's :over/:under). */
  requiredGroup?: string;
  /** With "variables", an optional leading variable name ('one') or list ('list') (RFC 5232 3). */
  variablesFirst?: 'one' | 'list';
}

const MATCH: Record<string, TagSpec> = {
  is: { group: 'match' },
  contains: { group: 'match' },
  matches: { group: 'match' },
  comparator: { value: 'string' },
  count: { group: 'match', ext: 'relational', value: 'string' },
  value: { group: 'match', ext: 'relational', value: 'string' },
};
const ADDRESS_PART: Record<string, TagSpec> = {
  all: { group: 'part' },
  localpart: { group: 'part' },
  user: { group: 'part', ext: 'subaddress' },
  detail: { group: 'part', ext: 'subaddress' },
  domain: { group: 'part' },
};
/** RFC 5260 6: which occurrence of the field, counted from the top or with :last from the bottom. */
const INDEX: Record<string, TagSpec> = {
  index: { ext: 'index', value: 'number' },
  last: { ext: 'index' },
};
const FLAGS: TagSpec = { ext: 'imap4flags', value: 'strings' };

const COMMANDS: Record<string, Spec> = {
  require: { positional: ['strings'] },
  if: { positional: [], tests: 'one', block: true },
  elsif: { positional: [], tests: 'one', block: true },
  else: { positional: [], block: true },
  stop: { positional: [] },
  keep: { positional: [], tags: { flags: FLAGS } },
  discard: { positional: [] },
  fileinto: {
    ext: 'fileinto',
    positional: ['string'],
    tags: { copy: { ext: 'copy' }, create: { ext: 'mailbox' }, flags: FLAGS },
  },
  redirect: { positional: ['string'], tags: { copy: { ext: 'copy' } } },
  setflag: { ext: 'imap4flags', positional: ['strings'], variablesFirst: 'one' },
  addflag: { ext: 'imap4flags', positional: ['strings'], variablesFirst: 'one' },
  removeflag: { ext: 'imap4flags', positional: ['strings'], variablesFirst: 'one' },
  set: {
    ext: 'variables',
    positional: ['string', 'string'],
    // One modifier per precedence level (RFC 5229 4.1).
    tags: {
      lower: { group: 'case' },
      upper: { group: 'case' },
      lowerfirst: { group: 'first' },
      upperfirst: { group: 'first' },
      quotewildcard: {},
      length: {},
    },
  },
  vacation: {
    ext: 'vacation',
    positional: ['string'],
    tags: {
      days: { value: 'number' },
      subject: { value: 'string' },
      from: { value: 'string' },
      addresses: { value: 'strings' },
      mime: {},
      handle: { value: 'string' },
    },
  },
  reject: { ext: 'reject', positional: ['string'] },
  ereject: { ext: 'ereject', positional: ['string'] },
};

const TESTS: Record<string, Spec> = {
  true: { positional: [] },
  false: { positional: [] },
  not: { positional: [], tests: 'one' },
  allof: { positional: [], tests: 'list' },
  anyof: { positional: [], tests: 'list' },
  header: { positional: ['strings', 'strings'], tags: { ...MATCH, ...INDEX } },
  address: { positional: ['strings', 'strings'], tags: { ...MATCH, ...ADDRESS_PART, ...INDEX } },
  envelope: { ext: 'envelope', positional: ['strings', 'strings'], tags: { ...MATCH, ...ADDRESS_PART } },
  exists: { positional: ['strings'] },
  size: {
    positional: ['number'],
    tags: { over: { group: 'size' }, under: { group: 'size' } },
    requiredGroup: 'size',
  },
  hasflag: { ext: 'imap4flags', positional: ['strings'], tags: MATCH, variablesFirst: 'list' },
  string: { ext: 'variables', positional: ['strings', 'strings'], tags: MATCH },
  spamtest: {
    ext: 'spamtest',
    positional: ['string'],
    tags: { ...MATCH, percent: { ext: 'spamtestplus' } },
  },
  virustest: { ext: 'virustest', positional: ['string'], tags: MATCH },
  mailboxexists: { ext: 'mailbox', positional: ['strings'] },
  date: {
    ext: 'date',
    positional: ['string', 'string', 'strings'],
    tags: {
      ...MATCH,
      ...INDEX,
      zone: { value: 'string', group: 'zone' },
      originalzone: { group: 'zone' },
    },
  },
  currentdate: {
    ext: 'date',
    positional: ['string', 'strings'],
    tags: { ...MATCH, zone: { value: 'string' } },
  },
  body: {
    ext: 'body',
    positional: ['strings'],
    tags: {
      ...MATCH,
      raw: { group: 'transform' },
      content: { group: 'transform', value: 'strings' },
      text: { group: 'transform' },
    },
  },
};

/** A command's or test's arguments sorted into tags (with their values) and positional ones. */
export interface SplitArguments {
  tags: Map<string, Argument | null>;
  positional: Argument[];
}

export function splitArguments(node: Test, spec: Spec | undefined = specOf(node)): SplitArguments {
  const tags = new Map<string, Argument | null>();
  const positional: Argument[] = [];
  for (let i = 0; i < node.args.length; i++) {
    const arg = node.args[i]!;
    if (arg.type === 'tag') {
      const tagSpec = spec?.tags?.[arg.name];
      const value = tagSpec?.value ? (node.args[++i] ?? null) : null;
      tags.set(arg.name, value);
    } else positional.push(arg);
  }
  return { tags, positional };
}

function specOf(node: Test): Spec | undefined {
  return 'block' in node ? COMMANDS[node.name] : TESTS[node.name];
}

function isOneAddress(value: string): boolean {
  const entries = decodedAddressList(value);
  const only = entries.length === 1 ? entries[0]! : null;
  return only !== null && !('group' in only) && /^[^@\s]+@[^@\s]+$/.test(only.address ?? '');
}

export const RELATIONS = ['gt', 'ge', 'lt', 'le', 'eq', 'ne'];

type Fail = (message: string, offset: number) => SieveSyntaxError;

/** Checks every command and test against its signature; returns the required extensions. */
export function validate(commands: Command[], fail: Fail): Set<string> {
  const required = new Set<string>();
  let preamble = true;
  for (const command of commands) {
    if (command.name !== 'require') preamble = false;
    else {
      if (!preamble) throw fail('"require" must come before other commands', command.offset);
      checkNode(command, COMMANDS.require!, required, fail);
      const names = command.args[0];
      if (names?.type !== 'strings') continue;
      for (const name of names.values) {
        if (!SUPPORTED_EXTENSIONS.includes(name)) throw fail(`unsupported extension "${name}"`, names.offset);
        required.add(name);
      }
    }
  }
  if (required.has('spamtestplus')) required.add('spamtest');
  if (required.has('encoded-character')) decodeCharacters(commands, fail);
  checkBlock(commands, required, fail, true);
  return required;
}

/**
 * RFC 5228 2.4.2.4: `${hex: 41 42}` (octets of UTF-8) and `${unicode: 263a}` in every string, once
 * "encoded-character" is required; a malformed sequence stays literal text, a code point outside
 * Unicode is an error.
 */
function decodeCharacters(nodes: Test[], fail: Fail): void {
  const ENCODED = /\$\{(hex|unicode):([^}]*)\}/gi;
  const decode = (value: string, offset: number): string => {
    if (!value.includes('${')) return value;
    const chunks: Buffer[] = [];
    let last = 0;
    for (const m of value.matchAll(ENCODED)) {
      const hex = m[1]!.toLowerCase() === 'hex';
      const units = m[2]!.trim().split(/[ \t\r\n]+/);
      const unit = hex ? /^[0-9a-f]{1,2}$/i : /^[0-9a-f]{1,6}$/i;
      if (!units.every((u) => unit.test(u))) continue;
      chunks.push(Buffer.from(value.slice(last, m.index)));
      last = m.index + m[0].length;
      if (hex) chunks.push(Buffer.from(units.map((u) => parseInt(u, 16))));
      else {
        for (const u of units) {
          const code = parseInt(u, 16);
          if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff))
            throw fail(`invalid unicode character ${u}`, offset);
          chunks.push(Buffer.from(String.fromCodePoint(code)));
        }
      }
    }
    if (last === 0) return value;
    chunks.push(Buffer.from(value.slice(last)));
    return Buffer.concat(chunks).toString('utf8');
  };
  for (const node of nodes) {
    for (const arg of node.args)
      if (arg.type === 'strings') arg.values = arg.values.map((v) => decode(v, arg.offset));
    decodeCharacters(node.tests, fail);
    if ('block' in node && Array.isArray(node.block)) decodeCharacters(node.block as Test[], fail);
  }
}

function checkSet(command: Command, variables: Set<string>, fail: Fail): void {
  const name = splitArguments(command).positional[0];
  if (name?.type !== 'strings') return;
  const value = name.values[0]!;
  if (!VARIABLE_NAME.test(value)) throw fail(`invalid variable name "${value}"`, name.offset);
  variables.add(value.toLowerCase());
  if (variables.size > MAX_VARIABLES) throw fail(`more than ${MAX_VARIABLES} variables`, name.offset);
}

function checkBlock(
  commands: Command[],
  required: Set<string>,
  fail: Fail,
  topLevel: boolean,
  variables = new Set<string>(),
): void {
  let previous: string | null = null;
  for (const command of commands) {
    const spec = COMMANDS[command.name];
    if (!spec) throw fail(`unknown command "${command.name}"`, command.offset);
    if (command.name === 'require' && !topLevel)
      throw fail('"require" is only allowed at the top', command.offset);
    if ((command.name === 'elsif' || command.name === 'else') && previous !== 'if' && previous !== 'elsif') {
      throw fail(`"${command.name}" without "if"`, command.offset);
    }
    if (command.name !== 'require') checkNode(command, spec, required, fail);
    if (command.name === 'set') checkSet(command, variables, fail);
    if (spec.block && !command.block) throw fail(`"${command.name}" needs a block`, command.offset);
    if (!spec.block && command.block) throw fail(`"${command.name}" takes no block`, command.offset);
    if (command.block) checkBlock(command.block, required, fail, false, variables);
    previous = command.name;
  }
}

function checkNode(node: Test, spec: Spec, required: Set<string>, fail: Fail): void {
  const kind = 'block' in node ? 'command' : 'test';
  if (spec.ext && !required.has(spec.ext))
    throw fail(`${kind} "${node.name}" needs require "${spec.ext}"`, node.offset);
  const groups = new Set<string>();
  const seen = new Set<string>();
  let positional = 0;
  // RFC 5232 3 with variables: setflag/addflag/removeflag/hasflag may name variables first.
  const leading = spec.variablesFirst && required.has('variables') ? 1 : 0;
  const given = splitArguments(node, spec).positional.length;
  const positionals: Positional[] =
    leading && given === spec.positional.length + 1
      ? [spec.variablesFirst === 'one' ? 'string' : 'strings', ...spec.positional]
      : spec.positional;
  for (let i = 0; i < node.args.length; i++) {
    const arg = node.args[i]!;
    if (arg.type === 'tag') {
      const tag = spec.tags?.[arg.name];
      if (!tag) throw fail(`unknown tag ":${arg.name}" for ${kind} "${node.name}"`, arg.offset);
      if (tag.ext && !required.has(tag.ext))
        throw fail(`":${arg.name}" needs require "${tag.ext}"`, arg.offset);
      if (positional > 0) throw fail(`tag ":${arg.name}" after positional arguments`, arg.offset);
      if (seen.has(arg.name)) throw fail(`tag ":${arg.name}" given twice`, arg.offset);
      seen.add(arg.name);
      if (tag.group) {
        if (groups.has(tag.group)) throw fail(`conflicting tag ":${arg.name}"`, arg.offset);
        groups.add(tag.group);
      }
      if (tag.value === 'number') {
        if (node.args[++i]?.type !== 'number') throw fail(`":${arg.name}" needs a number`, arg.offset);
      } else if (tag.value) {
        const value = node.args[++i];
        if (value?.type !== 'strings' || (tag.value === 'string' && value.values.length !== 1)) {
          throw fail(
            `":${arg.name}" needs a ${tag.value === 'string' ? 'string' : 'string list'}`,
            arg.offset,
          );
        }
        if (arg.name === 'comparator') {
          const name = value.values[0]!;
          if (!COMPARATORS.includes(name)) throw fail(`unknown comparator "${name}"`, value.offset);
          if (name === 'i;ascii-numeric' && !required.has('comparator-i;ascii-numeric'))
            throw fail(
              'comparator "i;ascii-numeric" needs require "comparator-i;ascii-numeric"',
              value.offset,
            );
        }
        if (arg.name === 'count' || arg.name === 'value') {
          const op = value.values[0]!.toLowerCase();
          if (!RELATIONS.includes(op)) throw fail(`unknown relation "${op}"`, value.offset);
        }
      }
      continue;
    }
    const want = positionals[positional];
    if (!want) throw fail(`too many arguments for ${kind} "${node.name}"`, arg.offset);
    const ok =
      want === 'number'
        ? arg.type === 'number'
        : arg.type === 'strings' && (want === 'strings' || arg.values.length === 1);
    if (!ok)
      throw fail(`${kind} "${node.name}" expects a ${want === 'strings' ? 'string list' : want}`, arg.offset);
    positional++;
  }
  if (positional < spec.positional.length)
    throw fail(`missing argument for ${kind} "${node.name}"`, node.offset);
  if (seen.has('contains') || seen.has('matches')) {
    const comparator = splitArguments(node, spec).tags.get('comparator');
    if (comparator?.type === 'strings' && comparator.values[0] === 'i;ascii-numeric')
      throw fail('comparator "i;ascii-numeric" cannot match substrings (RFC 4790 9.1)', comparator.offset);
  }
  if (node.name === 'vacation') {
    // A constant :from must be one address (Pigeonhole refuses it too); with ${...} it is known at run time.
    const from = splitArguments(node, spec).tags.get('from');
    const value = from?.type === 'strings' ? from.values[0]! : null;
    if (value !== null && !value.includes('${') && !isOneAddress(value))
      throw fail(`":from" is not an address: "${value}"`, from!.offset);
  }
  if (seen.has('last') && !seen.has('index')) throw fail('":last" needs ":index"', node.offset);
  if (spec.requiredGroup && !groups.has(spec.requiredGroup)) {
    throw fail(`${kind} "${node.name}" needs :over or :under`, node.offset);
  }
  if (!spec.tests && node.tests.length)
    throw fail(`${kind} "${node.name}" takes no test`, node.tests[0]!.offset);
  if (spec.tests === 'one' && (node.tests.length !== 1 || node.testList)) {
    throw fail(`${kind} "${node.name}" needs one test, not a test list`, node.offset);
  }
  if (spec.tests === 'list' && !node.testList)
    throw fail(`${kind} "${node.name}" needs a test list`, node.offset);
  for (const test of node.tests) {
    const testSpec = TESTS[test.name];
    if (!testSpec) throw fail(`unknown test "${test.name}"`, test.offset);
    checkNode(test, testSpec, required, fail);
  }
}
