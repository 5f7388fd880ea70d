import { relayScenarios } from './scenarios.js';

relayScenarios('embedded');
