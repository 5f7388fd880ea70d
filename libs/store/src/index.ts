export { migrate, MigrationChecksumError } from './migrate.js';
export type { MigrateOptions, MigrateResult } from './migrate.js';
export { readMigrationFiles, defaultMigrationsDir } from './migration-files.js';
export type { MigrationFile } from './migration-files.js';
export { createPool } from './pool.js';
export type { Pool, PoolOptions } from './pool.js';
export { StoreHealth } from './health.js';
export {
  deliverManyToMailboxes,
  deliverToMailbox,
  listDeliveryRejections,
  recordRejection,
} from './delivery.js';
export type {
  DeliveryOutcome,
  LocalDelivery,
  MessageFacts,
  MessageSortKeys,
  RecordedRejection,
  Rejection,
  RejectionReason,
} from './delivery.js';
export { ensureMailbox } from './mailboxes.js';
export type { MailboxWriter } from './mailbox-writer.js';
export { startEmbeddedPostgres } from './embedded-postgres.js';
export type { EmbeddedPostgresHandle, EmbeddedPostgresOptions } from './embedded-postgres.js';
export { readPop3Maildrop, recordPop3Octets } from './pop3-maildrop.js';
export type { Pop3MaildropMessage, Pop3MaildropSnapshot } from './pop3-maildrop.js';
export { expungeMessages } from './expunge.js';
export type { ExpungeRequest, ExpungeResult } from './expunge.js';
export {
  MAILBOX_DELIMITER,
  createImapMailbox,
  deleteImapMailbox,
  findImapMailbox,
  listImapMailboxes,
  listLingeringSubscriptions,
  renameImapMailbox,
  setImapSubscription,
} from './imap/mailbox-tree.js';
export type {
  CreateMailboxOutcome,
  DeleteMailboxOutcome,
  ImapMailbox,
  RenameMailboxOutcome,
} from './imap/mailbox-tree.js';
export {
  claimImapRecent,
  openImapMailbox,
  readImapChanges,
  readImapQuota,
  readImapStatus,
  readImapVanished,
} from './imap/mailbox-state.js';
export type {
  ImapMailboxChanges,
  ImapMailboxHeader,
  ImapMailboxSnapshot,
  ImapMailboxStatus,
  ImapMessageState,
} from './imap/mailbox-state.js';
export { readImapMessages } from './imap/message-rows.js';
export { keepImapPreviews, readImapMessageExtras } from './imap/message-extras.js';
export type { ImapMessageExtras } from './imap/message-extras.js';
export type { ImapMessageRow, ImapSearchFacts, ReadMessagesOptions } from './imap/message-rows.js';
export { readImapKeywords, storeImapFlags } from './imap/flags.js';
export type { StoreFlagsRequest, StoreFlagsResult } from './imap/flags.js';
export { appendImapMessages } from './imap/append.js';
export type { AppendOutcome, AppendRequest as ImapAppendRequest } from './imap/append.js';
export { copyImapMessages } from './imap/copy.js';
export {
  claimSpamTrainingJobs,
  completeSpamTrainingJob,
  getDomainSpamSettings,
  putDomainSpamSettings,
  readDomainSpamThresholds,
  retrySpamTrainingJob,
  trainingClass,
} from './spam.js';
export type { DomainSpamThresholds, SpamClass, SpamTrainingJob } from './spam.js';
export type { CopyOutcome, CopyRequest as ImapCopyRequest } from './imap/copy.js';
export { searchImapMailbox } from './imap/search.js';
export { readImapMetadata, writeImapMetadata } from './imap/metadata.js';
export type {
  ImapMetadataDepth,
  ImapMetadataEntry,
  ImapMetadataLimits,
  SetMetadataOutcome,
} from './imap/metadata.js';
export { fillSortKeys, readImapSortRows } from './imap/sort-rows.js';
export type { ImapSortKeySource, ImapSortRow } from './imap/sort-rows.js';
export type { SearchCondition, SearchTextField } from './imap/search.js';
export {
  claimDueRelayJobs,
  claimNewRelayJob,
  deferRelayJob,
  deleteRelayJob,
  finishedRelayRecipients,
  getRelayQueueEntry,
  holdsRelayClaim,
  listRelayQueue,
  recordRelayOutcomes,
  relayQueueByDomain,
  relayQueueDepth,
  relayQueueOldestAgeSeconds,
  releaseRelayClaim,
  renewRelayClaim,
  rescheduleRelayJob,
  retryRelayJobNow,
} from './relay-queue.js';
export type {
  NewDeferredJob,
  NewRelayJob,
  RelayClaim,
  RelayOutcomeKind,
  RelayQueueAction,
  RelayQueueEntry,
  RelayQueueScope,
  RelayRecipientOutcome,
} from './relay-queue.js';
export { inTransaction } from './transaction.js';
export { withStoredBodies, type StoredBody } from './message-bodies.js';
export {
  BlobCollectedError,
  asBlobCollected,
  collectBlobs,
  recordUnclaimedBlobs,
  reviveCollectedBlob,
  writeReferencingStoredBlobs,
} from './blob-collection.js';
export type {
  BlobCollectionHooks,
  BlobCollectionPolicy,
  BlobCollectionResult,
  CollectableBlobStore,
} from './blob-collection.js';
export {
  archiveDeadLetter,
  countWaitingDeadLetters,
  getDeadLetter,
  listDeadLetters,
  recordDeadLetterReplay,
} from './dead-letters.js';
export type { DeadLetterState, NewDeadLetter, StoredDeadLetter } from './dead-letters.js';
export { findMessageJourneys, recordAcceptedMessages } from './journey.js';
export type {
  AcceptedMessage,
  JourneyDeadLetter,
  MessageJourney,
  RecipientFate,
  RelayJobRoute,
} from './journey.js';
export { createImageSenderList, MAX_IMAGE_SENDERS_PER_ACCOUNT } from './webmail-image-senders.js';
export type { ImageSenderList } from './webmail-image-senders.js';
export {
  activateSieveScript,
  activeSieveScripts,
  deleteSieveScript,
  getSieveScript,
  listSieveScriptNames,
  listSieveScripts,
  MAX_SIEVE_SCRIPT_BYTES,
  putSieveScript,
  renameSieveScript,
  SieveScriptTooLargeError,
} from './sieve-scripts.js';
export type { SieveScriptRow } from './sieve-scripts.js';
export { claimVacationReply, pruneVacationReplies, releaseVacationReply } from './sieve-vacation.js';
export type { VacationClaim, VacationClaimResult } from './sieve-vacation.js';
export {
  DecisionWriter,
  listDecisions,
  noDecisionLog,
  pruneDecisions,
  recordDecisions,
} from './decisions.js';
export type {
  Decision,
  DecisionLog,
  DecisionOutcome,
  DecisionQuery,
  DecisionStage,
  DecisionWriterOptions,
  RecordedDecision,
} from './decisions.js';
