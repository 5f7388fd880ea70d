import { sieveScenarios } from './sieve.js';

sieveScenarios('distributed');
