import { mailJourney } from './journey.js';
import { startKafkaStack } from './support/stacks.js';

// The all-in-one on the real test backends: Kafka, PostgreSQL (a fresh database), MinIO, Redis.
mailJourney('Kafka, PostgreSQL, MinIO and Redis', startKafkaStack);
