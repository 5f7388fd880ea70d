import { deliveryScenarios } from './scenarios.js';

deliveryScenarios('embedded');
