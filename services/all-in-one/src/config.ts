import { z } from 'zod';
import { defineSection, flag, optionalFlag, text } from '@correo/config';

const NOT_DEV =
  'unset or false: this is not a dev setup, and a demo account with a known or printed password must not ' +
  'face a network (CORREO_DEV=true marks a try-out on this machine, as make dev does)';

/** Variables only the embedded default reads: the dev switch and the demo tenant of `make dev`. */
export const allInOneSection = defineSection({
  variables: {
    // The one switch for the conveniences of a try-out: the demo account, plaintext AUTH on loopback.
    CORREO_DEV: flag(false),
    // Unset: follows CORREO_DEV.
    CORREO_DEMO: optionalFlag(),
    CORREO_DEMO_ADDRESS: text('demo@example.test'),
    // Unset: one is generated on first start, kept in <data dir>/demo-password and printed.
    CORREO_DEMO_PASSWORD: z.string().min(8, { error: 'at least 8 characters' }).optional(),
  },
  secrets: ['CORREO_DEMO_PASSWORD'],
  check(vars) {
    if (vars.CORREO_DEV !== false) return [];
    const issues = [];
    if (vars.CORREO_DEMO === true) issues.push({ variable: 'CORREO_DEMO', expected: NOT_DEV });
    if (vars.CORREO_DEMO_PASSWORD !== undefined) {
      issues.push({ variable: 'CORREO_DEMO_PASSWORD', expected: NOT_DEV });
    }
    return issues;
  },
  build: (vars) => ({
    dev: vars.CORREO_DEV,
    demo: vars.CORREO_DEMO ?? vars.CORREO_DEV,
    demoAddress: vars.CORREO_DEMO_ADDRESS,
    demoPassword: vars.CORREO_DEMO_PASSWORD,
  }),
});
