import { mailJourney } from './journey.js';

// The all-in-one on the real test backends: Kafka, PostgreSQL (a fresh database), MinIO and Redis.
mailJourney('distributed');
