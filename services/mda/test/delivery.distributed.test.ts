import { deliveryScenarios } from './scenarios.js';

deliveryScenarios('distributed');
