import { fuzzTest } from '@correo/testkit/fuzz';

fuzzTest(new URL('./fuzz/sasl.fuzz.ts', import.meta.url), 2_000);
