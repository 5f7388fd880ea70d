import { erasureScenarios } from './erasure.js';

erasureScenarios('embedded');
