import { fuzzTest } from '@correo/testkit/fuzz';

fuzzTest(new URL('./fuzz/sieve-script.fuzz.ts', import.meta.url), 3_000);
fuzzTest(new URL('./fuzz/sieve-forms.fuzz.ts', import.meta.url), 3_000);
