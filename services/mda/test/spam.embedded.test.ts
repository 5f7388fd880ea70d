import { spamScenarios } from './spam.js';

spamScenarios('embedded');
