import { parseScript, SieveSyntaxError, SUPPORTED_EXTENSIONS, type Command } from '@correo/sieve';
import type { ResponseCode } from '@correo/managesieve-proto';

/** The SIEVE capability: what libs/sieve's parser accepts in `require`, and so what the mda runs. */
export const SIEVE_CAPABILITY = SUPPORTED_EXTENSIONS.join(' ');

export type ScriptCheck =
  | { ok: true; warnings: string[] }
  /** The reason carries the parser's line and column (RFC 5804 2.6: a human-readable NO). */
  | { ok: false; error: string; code?: ResponseCode };

function countRedirects(commands: readonly Command[]): number {
  let n = 0;
  for (const command of commands) {
    if (command.name === 'redirect') n++;
    if (command.block) n += countRedirects(command.block);
  }
  return n;
}

/**
 * PUTSCRIPT's and CHECKSCRIPT's check: the size limit (QUOTA/MAXSIZE), then libs/sieve's parser and
 * validator (the same the mda runs at delivery). A script that parses but cannot do all it says gets
 * WARNINGS: more redirect commands than one run performs.
 */
export function checkSieveScript(
  content: string,
  limits: { maxScriptBytes: number; maxRedirects: number },
): ScriptCheck {
  const bytes = Buffer.byteLength(content, 'utf8');
  if (bytes > limits.maxScriptBytes) {
    return {
      ok: false,
      error: `The script is ${bytes} octets, at most ${limits.maxScriptBytes} are allowed`,
      code: { name: 'QUOTA/MAXSIZE' },
    };
  }
  let commands: Command[];
  try {
    commands = parseScript(content, { maxScriptBytes: limits.maxScriptBytes }).commands;
  } catch (error) {
    if (error instanceof SieveSyntaxError) return { ok: false, error: error.message };
    throw error;
  }
  const warnings: string[] = [];
  const redirects = countRedirects(commands);
  if (redirects > limits.maxRedirects) {
    warnings.push(
      `the script has ${redirects} redirect commands; one delivery performs at most ${limits.maxRedirects}`,
    );
  }
  return { ok: true, warnings };
}
