import { z } from 'zod';
import { SieveSyntaxError } from './errors.js';
import { hashComments } from './lexer.js';
import { parseScript, type Command } from './parser.js';

/*
 * The simple forms (a vacation reply, a list of rules) and the Sieve they stand for. One generator
 * and one reader, used by admin-api and the webmail alike, so that both read back exactly what
 * either wrote.
 *
 * The forms' Sieve is one section of the account's active script, between two marker comments. The
 * opening marker carries the forms themselves as JSON, so reading back never has to reverse-engineer
 * Sieve; the code between the markers is regenerated from that JSON and compared, which tells when
 * somebody edited the section by hand. Everything outside the markers is the user's own and is kept
 * byte for byte. The markers are found with the Sieve lexer, so a marker-like line inside a string
 * (a vacation text, say) is never taken for one.
 */

/** The name the forms store the script under when the account has no active script yet. */
const FORMS_SCRIPT_NAME = 'correo';

/**
 * The name for a new active script when there is none: FORMS_SCRIPT_NAME, or with a number when an
 * inactive script already has that name (it is the user's and must not be overwritten).
 */
export function newScriptName(existing: readonly string[]): string {
  for (let n = 1; ; n++) {
    const name = n === 1 ? FORMS_SCRIPT_NAME : `${FORMS_SCRIPT_NAME}-${n}`;
    if (!existing.includes(name)) return name;
  }
}

const BEGIN = '# correo-forms v1 ';
const END = '# correo-forms end';
const NOTE = '# Written by the rules and vacation forms; edits between these markers are replaced.';

/** Text fields: one line, no control characters, no `${` (a script that requires "variables" would expand it). */
// eslint-disable-next-line no-control-regex -- control characters are exactly what this refuses
const NO_CONTROL = /^[^\u0000-\u001f\u007f]*$/;
const line = (max: number) =>
  z
    .string()
    .max(max)
    .regex(NO_CONTROL, 'must be one line without control characters')
    .refine((s) => !s.includes('${'), 'may not contain "${" (Sieve variables)');
/** Conservative: what Pigeonhole and our validator take as an address, nothing an attacker can stretch. */
const ADDRESS = /^[^\s@"\\<>()[\],;:]{1,64}@[^\s@"\\<>()[\],;:]{1,253}$/;
const address = z.string().max(320).regex(ADDRESS, 'must be an address like name@example.com');
const day = z
  .string()
  .regex(/^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, 'must be a date like 2026-12-24');

export const vacationFormSchema = z
  .object({
    enabled: z.boolean(),
    /** Empty: the reply's subject is "Auto: " and the original's. */
    subject: line(200).default(''),
    body: z
      .string()
      .min(1, 'the reply needs a text')
      .max(10_000)
      // eslint-disable-next-line no-control-regex -- line breaks and tabs only
      .regex(/^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$/, 'may not contain control characters')
      .refine((s) => !s.includes('${'), 'may not contain "${" (Sieve variables)'),
    /** At most one reply per sender in this many days (RFC 5230 :days). */
    days: z.number().int().min(1).max(30).default(7),
    /** The user's other addresses: mail to them is answered too, and never answered to. */
    addresses: z.array(address).max(20).default([]),
    /** The reply's From; empty: the address the mail was sent to. */
    from: z.union([z.literal(''), address]).default(''),
    /** Only from / until this day (inclusive), in `zone` (RFC 5260 currentdate). */
    start: day.optional(),
    end: day.optional(),
    /** The user's UTC offset, +hhmm; default +0000. */
    zone: z
      .string()
      .regex(/^[+-](0\d|1[0-4])[0-5]\d$/, 'must be an offset like +0100')
      .optional(),
  })
  .strict()
  .refine((v) => !v.start || !v.end || v.start <= v.end, {
    message: 'the last day comes before the first',
    path: ['end'],
  });

export type VacationForm = z.output<typeof vacationFormSchema>;
export type VacationFormInput = z.input<typeof vacationFormSchema>;

const condition = z
  .object({
    /** `to` is To or Cc; `header` names its field in `header`. */
    field: z.enum(['from', 'to', 'subject', 'header']),
    header: z
      .string()
      .regex(/^[!-9;-~]{1,100}$/, 'must be a header field name like List-Id')
      .optional(),
    match: z.enum(['contains', 'is', 'matches']),
    value: line(500),
  })
  .strict()
  .refine((c) => (c.field === 'header') === (c.header !== undefined), {
    message: 'a header condition names its field in "header" (and only it does)',
    path: ['header'],
  });

const action = z.discriminatedUnion('type', [
  z
    .object({ type: z.literal('fileinto'), folder: line(500).pipe(z.string().min(1, 'names no folder')) })
    .strict(),
  z.object({ type: z.literal('read') }).strict(),
  z.object({ type: z.literal('flag') }).strict(),
  z.object({ type: z.literal('discard') }).strict(),
  z.object({ type: z.literal('redirect'), address, copy: z.boolean().default(false) }).strict(),
  z.object({ type: z.literal('stop') }).strict(),
]);

export const ruleSchema = z
  .object({
    name: line(200).pipe(z.string().min(1, 'a rule needs a name')),
    enabled: z.boolean().default(true),
    /** all: every condition must hold; any: one is enough. No conditions: every message. */
    match: z.enum(['all', 'any']).default('all'),
    conditions: z.array(condition).max(20),
    actions: z.array(action).min(1, 'a rule needs an action').max(10),
  })
  .strict();

export const rulesSchema = z.array(ruleSchema).max(100);

export type Rule = z.output<typeof ruleSchema>;
export type RuleInput = z.input<typeof ruleSchema>;
export type RuleCondition = Rule['conditions'][number];
export type RuleAction = Rule['actions'][number];

/** What the forms hold; what is absent was never filled in. */
export interface Forms {
  vacation: VacationForm | null;
  rules: Rule[];
}

/** A form that cannot be written: the field (a dotted path) and why, as the user should read it. */
export class FormError extends Error {
  constructor(
    message: string,
    readonly details: { field: string; message: string; line?: number; column?: number }[],
  ) {
    super(message);
    this.name = 'FormError';
  }
}

function parseWith<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const details = result.error.issues.map((issue) => ({
    field: issue.path.join('.') || what,
    message: issue.message,
  }));
  throw new FormError(
    `the ${what} form is not valid: ${details.map((d) => `${d.field} ${d.message}`).join('; ')}`,
    details,
  );
}

/** Checks a vacation form as a user sent it (defaults filled in); FormError names the fields. */
export const parseVacationForm = (value: unknown): VacationForm =>
  parseWith(vacationFormSchema, value, 'vacation');
export const parseRules = (value: unknown): Rule[] => parseWith(rulesSchema, value, 'rules');

/** A Sieve quoted string: only `"` and `\` need escaping (RFC 5228 2.4.2). */
export function quoted(text: string): string {
  return `"${text.replace(/[\\"]/g, '\\$&')}"`;
}

/** A `text:` multi-line string: lines starting with "." get a second one (dot-stuffing). */
export function multiline(text: string): string {
  const lines = text.replace(/\r\n?/g, '\n').replace(/\n$/, '').split('\n');
  return `text:\n${lines.map((l) => (l.startsWith('.') ? `.${l}` : l)).join('\n')}\n.\n`;
}

const list = (values: string[]): string =>
  values.length === 1 ? quoted(values[0]!) : `[${values.map(quoted).join(', ')}]`;

function vacationCode(form: VacationForm, need: Set<string>): string {
  need.add('vacation');
  const tags = [`:days ${form.days}`];
  if (form.subject) tags.push(`:subject ${quoted(form.subject)}`);
  if (form.from) tags.push(`:from ${quoted(form.from)}`);
  if (form.addresses.length) tags.push(`:addresses ${list(form.addresses)}`);
  const reply = `vacation ${tags.join(' ')} ${multiline(form.body)};\n`;
  const zone = form.zone ? `:zone ${quoted(form.zone)} ` : '';
  const window = [
    ...(form.start ? [`currentdate ${zone}:value "ge" "date" ${quoted(form.start)}`] : []),
    ...(form.end ? [`currentdate ${zone}:value "le" "date" ${quoted(form.end)}`] : []),
  ];
  if (!window.length) return reply;
  need.add('date').add('relational');
  const test = window.length === 1 ? window[0]! : `allof (${window.join(', ')})`;
  return `if ${test} {\n${reply}}\n`;
}

function conditionCode(c: RuleCondition): string {
  const match = `:${c.match}`;
  switch (c.field) {
    case 'subject':
      return `header ${match} "subject" ${quoted(c.value)}`;
    case 'header':
      return `header ${match} ${quoted(c.header!)} ${quoted(c.value)}`;
    case 'from':
      return `address :all ${match} "from" ${quoted(c.value)}`;
    case 'to':
      return `address :all ${match} ["to", "cc"] ${quoted(c.value)}`;
  }
}

// Flags first, so that the folder the message goes to gets them; stop last.
const ACTION_ORDER: RuleAction['type'][] = ['read', 'flag', 'fileinto', 'redirect', 'discard', 'stop'];

function ruleCode(rule: Rule, need: Set<string>): string {
  const tests = rule.conditions.map(conditionCode);
  const test =
    tests.length === 0 ? 'true' : tests.length === 1 ? tests[0]! : `${rule.match}of (${tests.join(', ')})`;
  const actions = [...rule.actions].sort(
    (a, b) => ACTION_ORDER.indexOf(a.type) - ACTION_ORDER.indexOf(b.type),
  );
  const body = actions.map((a) => {
    switch (a.type) {
      case 'read':
        need.add('imap4flags');
        return 'addflag "\\\\Seen";';
      case 'flag':
        need.add('imap4flags');
        return 'addflag "\\\\Flagged";';
      case 'fileinto':
        need.add('fileinto').add('mailbox');
        return `fileinto :create ${quoted(a.folder)};`;
      case 'redirect':
        if (a.copy) need.add('copy');
        return `redirect ${a.copy ? ':copy ' : ''}${quoted(a.address)};`;
      case 'discard':
        return 'discard;';
      case 'stop':
        return 'stop;';
    }
  });
  // The name as a JSON string: a comment ends at the line break, which JSON escapes.
  return `# rule ${JSON.stringify(rule.name)}\nif ${test} {\n${body.map((b) => `  ${b}\n`).join('')}}\n`;
}

/** The section for these forms, markers included; '' when they ask for nothing at all. */
export function formsSection(forms: Forms): string {
  if (!forms.vacation && forms.rules.length === 0) return '';
  const need = new Set<string>();
  const code = [
    ...(forms.vacation?.enabled ? [vacationCode(forms.vacation, need)] : []),
    ...forms.rules.filter((r) => r.enabled).map((r) => ruleCode(r, need)),
  ].join('');
  const require = need.size ? `require ${list([...need].sort())};\n` : '';
  // JSON.stringify escapes every line break, so the forms stay inside their one comment line.
  return `${BEGIN}${JSON.stringify({ vacation: forms.vacation, rules: forms.rules })}\n${NOTE}\n${require}${code}${END}\n`;
}

/** What readForms found in a script. */
export interface ReadForms extends Forms {
  /** The script without the forms' section: the user's own part, exactly as it was. */
  userScript: string;
  /** The section's code no longer matches its forms: somebody edited it; writing the forms replaces it. */
  edited: boolean;
}

const EMPTY_FORMS_SCHEMA = z.object({
  vacation: vacationFormSchema.nullable(),
  rules: rulesSchema,
});

/**
 * Splits an active script into the forms it holds and the user's own part. A script the lexer cannot
 * read is a FormError: the forms cannot tell where their section is.
 */
export function readForms(script: string): ReadForms {
  let comments: ReturnType<typeof hashComments>;
  try {
    comments = hashComments(script);
  } catch (error) {
    if (!(error instanceof SieveSyntaxError)) throw error;
    throw scriptError(error);
  }
  const begin = comments.find((c) => c.text.startsWith(BEGIN));
  const end = begin && comments.find((c) => c.offset > begin.offset && c.text.replace(/\r$/, '') === END);
  if (!begin || !end) return { vacation: null, rules: [], userScript: script, edited: false };
  const section = script.slice(begin.offset, end.end);
  const userScript = script.slice(0, begin.offset) + script.slice(end.end);
  let forms: Forms;
  try {
    forms = EMPTY_FORMS_SCHEMA.parse(JSON.parse(begin.text.slice(BEGIN.length)));
  } catch {
    // Not the JSON this module writes: the section is somebody's edit, replaced on the next write.
    return { vacation: null, rules: [], userScript, edited: true };
  }
  return { ...forms, userScript, edited: formsSection(forms) !== section };
}

/**
 * The active script with the forms' section replaced by these forms (a form left out stays as it
 * was); the user's own part is kept byte for byte. The section goes after the user's `require`
 * commands (which must come first) and before the user's other commands, so the forms' rules run
 * first. The result is checked by the parser; a FormError carries its line and column.
 */
export function writeForms(script: string, change: { vacation?: VacationForm; rules?: Rule[] }): string {
  const current = readForms(script);
  const forms: Forms = {
    vacation: change.vacation ?? current.vacation,
    rules: change.rules ?? current.rules,
  };
  const user = current.userScript;
  const { at, commands } = sectionOffset(user);
  if (forms.vacation?.enabled && uses(commands, 'vacation')) {
    // Two vacation actions in one run fail the whole script at delivery (RFC 5230 4.2): every rule lost.
    throw new FormError('your own Sieve script already has a vacation command', [
      {
        field: 'vacation',
        message:
          'your own Sieve script already sends a vacation reply; remove it in the script editor first, two replies make the whole script fail',
      },
    ]);
  }
  // After a last line without a line break the marker starts mid-line: still a comment to the lexer,
  // and nothing is added to the user's part that reading back would have to take away again.
  const result = user.slice(0, at) + formsSection(forms) + user.slice(at);
  try {
    parseScript(result);
  } catch (error) {
    if (!(error instanceof SieveSyntaxError)) throw error;
    throw scriptError(error);
  }
  return result;
}

/**
 * Where the section goes: at the start of the line of the user's first command that is not
 * `require`. With the user's parsed commands.
 */
function sectionOffset(user: string): { at: number; commands: Command[] } {
  let commands: Command[];
  try {
    commands = parseScript(user).commands;
  } catch (error) {
    if (!(error instanceof SieveSyntaxError)) throw error;
    throw scriptError(error);
  }
  const first = commands.find((c) => c.name !== 'require');
  if (!first) return { at: commands.length ? user.length : 0, commands };
  const lineStart = user.lastIndexOf('\n', first.offset - 1) + 1;
  return {
    at: /^[ \t]*$/.test(user.slice(lineStart, first.offset)) ? lineStart : first.offset,
    commands,
  };
}

const uses = (commands: readonly Command[], name: string): boolean =>
  commands.some((c) => c.name === name || (c.block !== null && uses(c.block, name)));

function scriptError(error: SieveSyntaxError): FormError {
  return new FormError(`the active script does not parse, so the forms cannot change it: ${error.message}`, [
    { field: 'script', message: error.message, line: error.line, column: error.column },
  ]);
}

/**
 * The forms as JSON Schema (draft 7), for HTTP routes that validate with ajv and document in OpenAPI:
 * derived from the zod schemas above, so there is one definition. The refinements zod alone checks
 * (no "${", date order) are checked again by parseVacationForm/parseRules.
 */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { target: 'draft-7', io, unrepresentable: 'any' });
  return withoutBranchDefaults(rest) as Record<string, unknown>;
}

/** ajv (strict) refuses `default` inside anyOf/oneOf branches; zod fills those defaults anyway. */
function withoutBranchDefaults(node: unknown, inBranch = false): unknown {
  if (Array.isArray(node)) return node.map((n) => withoutBranchDefaults(n, inBranch));
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key]) => !(inBranch && key === 'default'))
      .map(([key, value]) => [
        key,
        withoutBranchDefaults(value, inBranch || key === 'anyOf' || key === 'oneOf'),
      ]),
  );
}
export const vacationFormJsonSchema = {
  input: jsonSchema(vacationFormSchema, 'input'),
  output: jsonSchema(vacationFormSchema, 'output'),
};
