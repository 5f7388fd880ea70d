import { z } from 'zod';
import { defineSection, flag, text } from '@correo/config';

/** Variables only the embedded default reads: the demo tenant of `make dev`. */
export const allInOneSection = defineSection({
  variables: {
    CORREO_DEMO: flag(true),
    CORREO_DEMO_ADDRESS: text('demo@example.test'),
    // Unset: one is generated on first start, kept in <data dir>/demo-password and printed.
    CORREO_DEMO_PASSWORD: z.string().min(8, { error: 'at least 8 characters' }).optional(),
  },
  secrets: ['CORREO_DEMO_PASSWORD'],
  build: (vars) => ({
    demo: vars.CORREO_DEMO,
    demoAddress: vars.CORREO_DEMO_ADDRESS,
    demoPassword: vars.CORREO_DEMO_PASSWORD,
  }),
});
