import { fuzzTest } from '@correo/testkit/fuzz';

fuzzTest(new URL('./fuzz/sieve-script.fuzz.ts', import.meta.url), 3_000);
