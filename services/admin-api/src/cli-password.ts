import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';

/**
 * The password for add-account / set-password: --password, else CORREO_ACCOUNT_PASSWORD, else typed at a
 * hidden prompt (terminal) or read as the first line of stdin (scripts: `echo pw | correo-admin ...`).
 */
export async function readPassword(flag: string | undefined, env: NodeJS.ProcessEnv): Promise<string> {
  if (flag !== undefined) return flag;
  if (env.CORREO_ACCOUNT_PASSWORD) return env.CORREO_ACCOUNT_PASSWORD;
  const interactive = process.stdin.isTTY === true;
  let muted = false;
  // Echo the prompt, then swallow what the user types.
  const output = new Writable({
    write(chunk, _encoding, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: interactive });
  try {
    if (interactive) output.write('Password: ');
    muted = true;
    const line = await new Promise<string>((resolve) => {
      rl.once('line', resolve);
      rl.once('close', () => resolve(''));
    });
    if (interactive) process.stderr.write('\n');
    return line;
  } finally {
    rl.close();
  }
}
