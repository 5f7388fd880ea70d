import { crashScenario } from './crash.js';

crashScenario('embedded');
