import { fuzzTest } from '@correo/testkit/fuzz';

fuzzTest(new URL('./fuzz/mime-message.fuzz.ts', import.meta.url), 1_000);
