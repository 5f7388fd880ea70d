import { fuzzTest } from '@correo/testkit/fuzz';

fuzzTest(new URL('./fuzz/imap-command.fuzz.ts', import.meta.url), 3_000);
