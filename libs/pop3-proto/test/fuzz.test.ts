import { fuzzTest } from '@correo/testkit/fuzz';

fuzzTest(new URL('./fuzz/pop3-command.fuzz.ts', import.meta.url), 2_000);
