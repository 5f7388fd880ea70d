import { sieveScenarios } from './sieve.js';

sieveScenarios('embedded');
