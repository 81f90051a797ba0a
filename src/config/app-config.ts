import { plainToInstance, Transform } from 'class-transformer';
import path from 'node:path';
import { SecretBox } from '../common/secrets/secret-box.js';
import { IsIn, IsInt, IsOptional, IsString, IsUrl, Matches, Max, Min, MinLength, validateSync } from 'class-validator';

const toNumber = ({ value }: { value: unknown }) => (value === undefined ? value : Number(value));
const toDelay = ({ value }: { value: unknown }) => (value === undefined ? value : String(value).toLowerCase() === 'off' ? 0 : Number(value));
const toBool = ({ value }: { value: unknown }) => (value === undefined ? undefined : ['1', 'true', 'yes', 'on'].includes(String(value).toLowerCase()));

/**
 * Every environment variable the service reads. Validated once at boot: a bad value stops the process with a
 * message naming the variable, instead of failing later at the first request that needs it.
 */
export class AppConfig {
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(65535)
  @Transform(toNumber)
  PORT: number = 3000;

  /** External PostgreSQL. Unset: an embedded PostgreSQL is started with data in DATA_DIR/postgres. */
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\//, { message: 'DATABASE_URL must start with postgres:// or postgresql://' })
  DATABASE_URL?: string;

  @IsOptional()
  @IsString()
  DATA_DIR: string = '.data';

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(65535)
  @Transform(toNumber)
  EMBEDDED_PG_PORT: number = 54329;

  /** Guards /v1/admin/*. Required with DATABASE_URL; generated and kept in DATA_DIR/admin-token otherwise. */
  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'ADMIN_TOKEN must be at least 16 characters' })
  ADMIN_TOKEN?: string;

  /** A second Bearer token that opens only GET /metrics (for a Prometheus scraper); the admin token opens it too. */
  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'METRICS_TOKEN must be at least 16 characters' })
  METRICS_TOKEN?: string;

  /**
   * Keys that seal stored secrets (AES-256-GCM): one or more 32-byte keys in base64, comma-separated; the first seals,
   * all open. Required with DATABASE_URL; generated and kept in DATA_DIR/secrets-key otherwise.
   */
  @IsOptional()
  @IsString()
  SECRETS_KEY?: string;

  @IsOptional()
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL: string = 'info';

  /** Largest accepted request body, in bytes. */
  @IsOptional()
  @IsInt()
  @Min(1024)
  @Transform(toNumber)
  BODY_LIMIT_BYTES: number = 1_048_576;

  /** Base URL the service is reachable at (printed at start). */
  @IsOptional()
  @IsUrl({ require_tld: false, require_protocol: true })
  PUBLIC_URL?: string;

  /** Largest inbound media file downloaded, in bytes (WhatsApp documents go up to 100 MB). A larger one is not kept. */
  @IsOptional()
  @IsInt()
  @Min(1024)
  @Max(104_857_600)
  @Transform(toNumber)
  MEDIA_MAX_BYTES: number = 20_971_520;

  /** Allow http://localhost / 127.0.0.1 and private addresses as outgoing URLs (hooks, BSP base URLs, media URLs). */
  @IsOptional()
  @Transform(toBool)
  ALLOW_LOCAL_URLS?: boolean;

  @IsOptional()
  @IsUrl({ require_tld: false, require_protocol: true })
  GRAPH_API_BASE_URL: string = 'https://graph.facebook.com';

  @IsOptional()
  @Matches(/^v\d+\.\d+$/, { message: 'GRAPH_API_VERSION must look like v23.0' })
  GRAPH_API_VERSION: string = 'v23.0';

  /** Seconds before a sandbox template is approved. */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Transform(toNumber)
  SANDBOX_APPROVAL_DELAY_SECONDS: number = 0;

  /**
   * Milliseconds after a send on a sandbox line until the simulated user's phone reports it `delivered`, and as much
   * again until `read` (through the same status path as Meta's webhooks). `0` or `off`: no simulated statuses.
   */
  @IsOptional()
  @IsInt({ message: 'SANDBOX_STATUS_DELAY_MS must be a whole number of milliseconds, or off' })
  @Min(0)
  @Transform(toDelay)
  SANDBOX_STATUS_DELAY_MS: number = 1500;

  /**
   * Node.js processes serving this instance on one port: all serve HTTP, the first also runs the workers. More than
   * 1 uses more than one CPU core.
   */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(16)
  @Transform(toNumber)
  PROCESSES: number = 1;

  /**
   * Seconds a stop (SIGTERM, Ctrl-C) may take: readiness turns 503, requests in flight finish, workers end their
   * round; what is still running then is cut.
   */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(600)
  @Transform(toNumber)
  SHUTDOWN_GRACE_SECONDS: number = 25;

  /**
   * For trying flows only: the service's clock can be moved forward (`POST /v1/sandbox/clock`), so that follow-ups,
   * expiries and other deadlines come due at once. Refused with NODE_ENV=production and with PROCESSES > 1 (each
   * process has its own clock).
   */
  @IsOptional()
  @Transform(toBool)
  SANDBOX_CLOCK: boolean = false;

  /** Run the in-process workers (webhook processing, send queue, hook dispatch, crons). */
  @IsOptional()
  @Transform(toBool)
  WORKERS_ENABLED: boolean = true;

  /**
   * Milliseconds one webhook event may take to apply inside a batch of several users' events. One that takes longer
   * holds the others back: the batch is applied again without it, and it is retried on its own later.
   */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Transform(toNumber)
  WEBHOOK_EVENT_BUDGET_MS: number = 2000;

  /** Days a finished webhook event (processed, ignored, unknown_line, failed) is kept before it is purged. */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Transform(toNumber)
  WEBHOOK_EVENTS_RETENTION_DAYS: number = 7;

  /**
   * Days after a process finished (succeeded, failed, expired, cancelled) that its messages' bodies and media are
   * kept; each tenant may set its own (`messages_retention_days` in PATCH /v1/settings). The evidence log is never
   * purged by it.
   */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(36500)
  @Transform(toNumber)
  MESSAGES_RETENTION_DAYS: number = 400;

  /** Where stored files' bytes live: `local` (a folder, content-addressed) or `s3` (an S3-compatible bucket). */
  @IsOptional()
  @IsIn(['local', 's3'])
  FILE_STORE: 'local' | 's3' = 'local';

  /**
   * The local file store's folder. Default DATA_DIR/files with the embedded database; required with DATABASE_URL
   * (beside an external database the default folder is rarely where an operator keeps data: a container's is lost).
   */
  @IsOptional()
  @IsString()
  @MinLength(1)
  FILES_DIR?: string;

  /** S3-compatible endpoint (MinIO, Ceph, R2…); unset: AWS S3 of S3_REGION. */
  @IsOptional()
  @IsUrl({ require_tld: false, require_protocol: true })
  S3_ENDPOINT?: string;

  /** The bucket; required with FILE_STORE=s3. */
  @IsOptional()
  @IsString()
  @MinLength(3)
  S3_BUCKET?: string;

  @IsOptional()
  @IsString()
  S3_REGION: string = 'us-east-1';

  /** Static credentials; both or neither (neither: the SDK's default chain, e.g. an instance role). */
  @IsOptional()
  @IsString()
  S3_ACCESS_KEY_ID?: string;

  @IsOptional()
  @IsString()
  S3_SECRET_ACCESS_KEY?: string;

  /** Path-style URLs (`endpoint/bucket/key`), as most S3-compatible servers need. */
  @IsOptional()
  @Transform(toBool)
  S3_FORCE_PATH_STYLE: boolean = false;

  /**
   * The signing key and certificate chain (PKCS#12, .p12/.pfx) that signs contracts (PAdES): a path, or the file in
   * base64. One of them is required with DATABASE_URL unless SIGNING_TRIAL=true; unset with the embedded database, a
   * trial CA and signing certificate are generated into DATA_DIR/signing on first start (for trials only).
   */
  @IsOptional()
  @IsString()
  @MinLength(1)
  SIGNING_P12_PATH?: string;

  @IsOptional()
  @IsString()
  @MinLength(1)
  SIGNING_P12_BASE64?: string;

  /** The PKCS#12 file's password (unset: empty). */
  @IsOptional()
  @IsString()
  SIGNING_P12_PASSWORD?: string;

  /**
   * Sign with a generated trial CA kept in DATA_DIR/signing (no SIGNING_P12_*). Default: on with the embedded
   * database, off with DATABASE_URL. Signatures under a trial CA are valid only for whoever trusts that CA.
   */
  @IsOptional()
  @Transform(toBool)
  SIGNING_TRIAL?: boolean;

  /**
   * RFC 3161 time-stamping authority: signatures get a trusted timestamp (PAdES B-T or higher). Unset: PAdES B-B
   * (the signing time is the service's own claim).
   */
  @IsOptional()
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  TSA_URL?: string;

  /** Milliseconds one time-stamping call may take before it is abandoned (the signing is then retried later). */
  @IsOptional()
  @IsInt()
  @Min(100)
  @Max(120_000)
  @Transform(toNumber)
  TSA_TIMEOUT_MS: number = 10_000;

  /**
   * Seconds between two Merkle checkpoints of a tenant's evidence tree (one is issued only when events were added;
   * the job that adds the leaves runs every second).
   */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(86_400)
  @Transform(toNumber)
  EVIDENCE_CHECKPOINT_SECONDS: number = 60;

  /** Whether signatures use the generated trial CA (no PKCS#12 configured). */
  get signingTrial(): boolean {
    return !this.SIGNING_P12_PATH && !this.SIGNING_P12_BASE64 && (this.SIGNING_TRIAL ?? this.embedded);
  }

  get filesDir(): string {
    return this.FILES_DIR ?? path.join(this.DATA_DIR, 'files');
  }
  /** Requests a second per API key, unless the tenant has its own limit (admin API); shared by every instance. */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Transform(toNumber)
  RATE_LIMIT_PER_SECOND: number = 50;

  /** Requests an API key may send at once (the bucket's size). */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Transform(toNumber)
  RATE_LIMIT_BURST: number = 100;

  /** Requests a second per client address on routes without an API key (the webhook handshake) and with a bad key. */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Transform(toNumber)
  RATE_LIMIT_IP_PER_SECOND: number = 5;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Transform(toNumber)
  RATE_LIMIT_IP_BURST: number = 20;

  /** Public PDF verifications (`POST /v1/verify`) a minute per client address (also the burst). */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Transform(toNumber)
  VERIFY_RATE_LIMIT_PER_MINUTE: number = 30;

  /**
   * Express's `trust proxy`: which proxies' X-Forwarded-For to believe for the client address (rate limits, last use
   * of a key). Unset: the socket's address. E.g. `1` (one load balancer) or `loopback, 10.0.0.0/8`.
   */
  @IsOptional()
  @IsString()
  TRUST_PROXY?: string;

  get embedded(): boolean {
    return !this.DATABASE_URL;
  }

  get allowLocalUrls(): boolean {
    return this.ALLOW_LOCAL_URLS ?? this.embedded;
  }
}

export class ConfigError extends Error {}

const KEYS = [
  'PORT',
  'DATABASE_URL',
  'DATA_DIR',
  'EMBEDDED_PG_PORT',
  'ADMIN_TOKEN',
  'METRICS_TOKEN',
  'LOG_LEVEL',
  'BODY_LIMIT_BYTES',
  'PUBLIC_URL',
  'ALLOW_LOCAL_URLS',
  'GRAPH_API_BASE_URL',
  'GRAPH_API_VERSION',
  'SANDBOX_APPROVAL_DELAY_SECONDS',
  'SANDBOX_STATUS_DELAY_MS',
  'WORKERS_ENABLED',
  'SANDBOX_CLOCK',
  'SHUTDOWN_GRACE_SECONDS',
  'PROCESSES',
  'WEBHOOK_EVENT_BUDGET_MS',
  'WEBHOOK_EVENTS_RETENTION_DAYS',
  'MESSAGES_RETENTION_DAYS',
  'MEDIA_MAX_BYTES',
  'FILE_STORE',
  'FILES_DIR',
  'S3_ENDPOINT',
  'S3_BUCKET',
  'S3_REGION',
  'S3_ACCESS_KEY_ID',
  'S3_SECRET_ACCESS_KEY',
  'S3_FORCE_PATH_STYLE',
  'SECRETS_KEY',
  'RATE_LIMIT_PER_SECOND',
  'RATE_LIMIT_BURST',
  'RATE_LIMIT_IP_PER_SECOND',
  'RATE_LIMIT_IP_BURST',
  'VERIFY_RATE_LIMIT_PER_MINUTE',
  'TRUST_PROXY',
  'SIGNING_P12_PATH',
  'SIGNING_P12_BASE64',
  'SIGNING_P12_PASSWORD',
  'SIGNING_TRIAL',
  'TSA_URL',
  'TSA_TIMEOUT_MS',
  'EVIDENCE_CHECKPOINT_SECONDS',
] as const;
/** Never echoed in an error message. */
const SECRET_KEYS = new Set<string>(['ADMIN_TOKEN', 'METRICS_TOKEN', 'SECRETS_KEY', 'SIGNING_P12_BASE64', 'SIGNING_P12_PASSWORD']);

/** Rules across variables, one line each (the same form as the per-variable ones). */
function crossChecks(c: AppConfig): string[] {
  const problems: string[] = [];
  if (c.FILE_STORE === 's3' && !c.S3_BUCKET) problems.push('  S3_BUCKET: required when FILE_STORE=s3');
  if (!!c.S3_ACCESS_KEY_ID !== !!c.S3_SECRET_ACCESS_KEY) problems.push('  S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY: give both or neither');
  if (c.SIGNING_P12_PATH && c.SIGNING_P12_BASE64) problems.push('  SIGNING_P12_PATH, SIGNING_P12_BASE64: give one, not both');
  return problems;
}

/** Parses and validates an environment; throws ConfigError with one line per bad variable. */
export function loadConfig(env: Record<string, string | undefined>): AppConfig {
  const relevant = Object.fromEntries(KEYS.filter((k) => env[k] !== undefined && env[k] !== '').map((k) => [k, env[k]]));
  const config = plainToInstance(AppConfig, relevant);
  const errors = validateSync(config);
  if (errors.length > 0) {
    const lines = errors.map(
      (e) => `  ${e.property}=${SECRET_KEYS.has(e.property) ? '(hidden)' : JSON.stringify(relevant[e.property])}: ${Object.values(e.constraints ?? {}).join('; ')}`,
    );
    throw new ConfigError(`Invalid environment:\n${lines.join('\n')}`);
  }
  if (config.SECRETS_KEY !== undefined) {
    try {
      new SecretBox(config.SECRETS_KEY);
    } catch (err) {
      throw new ConfigError(`Invalid environment:\n  ${(err as Error).message}`);
    }
  }
  const problems = crossChecks(config);
  if (config.SANDBOX_CLOCK && env.NODE_ENV === 'production') problems.push('  SANDBOX_CLOCK: refused with NODE_ENV=production (it lets API keys move the clock)');
  if (config.SANDBOX_CLOCK && config.PROCESSES > 1) problems.push('  SANDBOX_CLOCK: needs PROCESSES=1 (each process has its own clock)');
  if (problems.length > 0) throw new ConfigError(`Invalid environment:\n${problems.join('\n')}`);
  return config;
}
