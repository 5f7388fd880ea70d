import { dsnScenarios } from './dsn.js';

dsnScenarios('distributed');
