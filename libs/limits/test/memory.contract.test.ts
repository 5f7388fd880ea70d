import { createMemoryLimits } from '../src/memory-limits.js';
import { limitsContract } from './contract.js';

// Instances from createMemoryLimits() share the process-wide state, so two of them stand for two pods.
limitsContract('memory', {
  make: () => createMemoryLimits(),
});
