import { sieveReplyScenarios } from './sieve-replies.js';

sieveReplyScenarios('embedded');
