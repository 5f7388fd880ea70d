import { crashScenario } from './crash.js';

crashScenario('distributed');
