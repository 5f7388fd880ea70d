import { mailJourney } from './journey.js';

// The all-in-one on the embedded default: embedded PostgreSQL, its queue tables as the bus, files for blobs.
mailJourney('embedded');
