import { mailJourney } from './journey.js';
import { startEmbeddedStack } from './support/stacks.js';

// The all-in-one on the embedded default: embedded PostgreSQL, its queue tables as the bus, files for blobs.
mailJourney('the embedded default', startEmbeddedStack);
