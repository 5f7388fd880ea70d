#!/usr/bin/env node
// The project runs its TypeScript through tsx (there is no build output), so the bin loads it first.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
