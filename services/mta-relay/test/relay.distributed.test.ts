import { relayScenarios } from './scenarios.js';

relayScenarios('distributed');
