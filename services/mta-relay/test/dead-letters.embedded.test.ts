import { deadLetterScenarios } from './dead-letters.js';

deadLetterScenarios('embedded');
