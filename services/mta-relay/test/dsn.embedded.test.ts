import { dsnScenarios } from './dsn.js';

dsnScenarios('embedded');
