import { Foundation1732250000000 } from './1732250000000-foundation.js';
import { Flows1732260000000 } from './1732260000000-flows.js';
import { Hooks1732265000000 } from './1732265000000-hooks.js';
import { Messages1732270000000 } from './1732270000000-messages.js';
import { Outbounds1732290000000 } from './1732290000000-outbounds.js';
import { FollowUps1732300000000 } from './1732300000000-follow-ups.js';
import { Conversations1732310000000 } from './1732310000000-conversations.js';
import { WebhookEventOrder1732320000000 } from './1732320000000-webhook-event-order.js';
import { LineSendQueue1732330000000 } from './1732330000000-line-send-queue.js';
import { LineProviderIds1732340000000 } from './1732340000000-line-provider-ids.js';
import { LineOwnership1732350000000 } from './1732350000000-line-ownership.js';
import { WebhookEventRetention1732360000000 } from './1732360000000-webhook-event-retention.js';
import { MediaFileStore1732370000000 } from './1732370000000-media-file-store.js';
import { ApiKeyScopes1732375000000 } from './1732375000000-api-key-scopes.js';
import { RateLimits1732380000000 } from './1732380000000-rate-limits.js';
import { AuditLog1732390000000 } from './1732390000000-audit-log.js';
import { Jobs1732395000000 } from './1732395000000-jobs.js';
import { Documents1733000000000 } from './1733000000000-documents.js';
import { Sms1733000100000 } from './1733000100000-sms.js';
import { SandboxNotifications1733700000000 } from './1733700000000-sandbox-notifications.js';
import { AuthenticationTemplates1733020000000 } from './1733020000000-authentication-templates.js';
import { Contracts1733100000000 } from './1733100000000-contracts.js';
import { EvidenceLog1733600000000 } from './1733600000000-evidence-log.js';
import { EvidenceCheckpoints1733800000000 } from './1733800000000-evidence-checkpoints.js';
import { EvidenceCertificates1733650000000 } from './1733650000000-evidence-certificates.js';
import { Custody1733660000000 } from './1733660000000-custody.js';
import { EvidenceDeferred1733670000000 } from './1733670000000-evidence-deferred.js';
import { OperationsMetricsRetention1733900000000 } from './1733900000000-operations-metrics-retention.js';
import { CheckpointCertificates1734000000000 } from './1734000000000-checkpoint-certificates.js';
import { EvidenceLeanerWrites1734100000000 } from './1734100000000-evidence-leaner-writes.js';
import { EvidenceLeafQueueUnlogged1734200000000 } from './1734200000000-evidence-leaf-queue-unlogged.js';

/** Every migration, oldest first. Listed explicitly so the app, the tests and the CLI load the same set. */
export const migrations = [
  Foundation1732250000000,
  Flows1732260000000,
  Hooks1732265000000,
  Messages1732270000000,
  Outbounds1732290000000,
  FollowUps1732300000000,
  Conversations1732310000000,
  WebhookEventOrder1732320000000,
  LineSendQueue1732330000000,
  LineProviderIds1732340000000,
  LineOwnership1732350000000,
  WebhookEventRetention1732360000000,
  MediaFileStore1732370000000,
  ApiKeyScopes1732375000000,
  RateLimits1732380000000,
  AuditLog1732390000000,
  Jobs1732395000000,
  Documents1733000000000,
  Sms1733000100000,
  AuthenticationTemplates1733020000000,
  Contracts1733100000000,
  EvidenceLog1733600000000,
  EvidenceCertificates1733650000000,
  Custody1733660000000,
  EvidenceDeferred1733670000000,
  SandboxNotifications1733700000000,
  EvidenceCheckpoints1733800000000,
  OperationsMetricsRetention1733900000000,
  CheckpointCertificates1734000000000,
  EvidenceLeanerWrites1734100000000,
  EvidenceLeafQueueUnlogged1734200000000,
];
