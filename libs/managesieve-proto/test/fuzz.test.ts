import { fuzzTest } from '@correo/testkit/fuzz';

fuzzTest(new URL('./fuzz/managesieve-command.fuzz.ts', import.meta.url), 2_000);
