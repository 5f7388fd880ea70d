import { fuzzTest } from '@correo/testkit/fuzz';

// smtp-server itself frames the SMTP commands; these targets are the code of ours behind it
// (garbage-sessions.test.ts sends mutated sessions to a running listener).
fuzzTest(new URL('./fuzz/smtp-data.fuzz.ts', import.meta.url), 1_000);
fuzzTest(new URL('./fuzz/smtp-envelope.fuzz.ts', import.meta.url), 2_000);
