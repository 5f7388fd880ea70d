import { erasureScenarios } from './erasure.js';

erasureScenarios('distributed');
