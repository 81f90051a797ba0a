import { plainToInstance, Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, IsUrl, Matches, Max, Min, MinLength, validateSync } from 'class-validator';

const toNumber = ({ value }: { value: unknown }) => (value === undefined ? value : Number(value));
const toDelay = ({ value }: { value: unknown }) => (value === undefined ? value : String(value).toLowerCase() === 'off' ? 0 : Number(value));
const toBool = ({ value }: { value: unknown }) =>
  value === undefined ? undefined : ['1', 'true', 'yes', 'on'].includes(String(value).toLowerCase());

/**
 * Every environment variable the service reads. Validated once at boot: a bad value stops the process with a
 * message naming the variable, instead of failing later at the first request that needs it.
 */
export class AppConfig {
  @IsOptional() @IsInt() @Min(0) @Max(65535) @Transform(toNumber)
  PORT: number = 3000;

  /** External PostgreSQL. Unset: an embedded PostgreSQL is started with data in DATA_DIR/postgres. */
  @IsOptional() @Matches(/^postgres(ql)?:\/\//, { message: 'DATABASE_URL must start with postgres:// or postgresql://' })
  DATABASE_URL?: string;

  @IsOptional() @IsString()
  DATA_DIR: string = '.data';

  @IsOptional() @IsInt() @Min(1) @Max(65535) @Transform(toNumber)
  EMBEDDED_PG_PORT: number = 54329;

  /** Guards /v1/admin/*. Required with DATABASE_URL; generated and kept in DATA_DIR/admin-token otherwise. */
  @IsOptional() @IsString() @MinLength(16, { message: 'ADMIN_TOKEN must be at least 16 characters' })
  ADMIN_TOKEN?: string;

  @IsOptional() @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL: string = 'info';

  /** Largest accepted request body, in bytes. */
  @IsOptional() @IsInt() @Min(1024) @Transform(toNumber)
  BODY_LIMIT_BYTES: number = 1_048_576;

  /** Base URL the service is reachable at (printed at start). */
  @IsOptional() @IsUrl({ require_tld: false, require_protocol: true })
  PUBLIC_URL?: string;

  /** Largest inbound media file downloaded, in bytes (WhatsApp documents go up to 100 MB). A larger one is not kept. */
  @IsOptional() @IsInt() @Min(1024) @Max(104_857_600) @Transform(toNumber)
  MEDIA_MAX_BYTES: number = 20_971_520;

  /** Allow http://localhost / 127.0.0.1 and private addresses as outgoing URLs (hooks, BSP base URLs, media URLs). */
  @IsOptional() @Transform(toBool)
  ALLOW_LOCAL_URLS?: boolean;

  @IsOptional() @IsUrl({ require_tld: false, require_protocol: true })
  GRAPH_API_BASE_URL: string = 'https://graph.facebook.com';

  @IsOptional() @Matches(/^v\d+\.\d+$/, { message: 'GRAPH_API_VERSION must look like v23.0' })
  GRAPH_API_VERSION: string = 'v23.0';

  /** Seconds before a sandbox template is approved. */
  @IsOptional() @IsInt() @Min(0) @Transform(toNumber)
  SANDBOX_APPROVAL_DELAY_SECONDS: number = 0;

  /**
   * Milliseconds after a send on a sandbox line until the simulated user's phone reports it `delivered`, and as much
   * again until `read` (through the same status path as Meta's webhooks). `0` or `off`: no simulated statuses.
   */
  @IsOptional() @IsInt({ message: 'SANDBOX_STATUS_DELAY_MS must be a whole number of milliseconds, or off' }) @Min(0) @Transform(toDelay)
  SANDBOX_STATUS_DELAY_MS: number = 1500;

  /**
   * Node.js processes serving this instance on one port: all serve HTTP, the first also runs the workers. More than
   * 1 uses more than one CPU core.
   */
  @IsOptional() @IsInt() @Min(1) @Max(16) @Transform(toNumber)
  PROCESSES: number = 1;

  /** Run the in-process workers (webhook processing, send queue, hook dispatch, crons). */
  @IsOptional() @Transform(toBool)
  WORKERS_ENABLED: boolean = true;

  /**
   * Milliseconds one webhook event may take to apply inside a batch of several users' events. One that takes longer
   * holds the others back: the batch is applied again without it, and it is retried on its own later.
   */
  @IsOptional() @IsInt() @Min(0) @Transform(toNumber)
  WEBHOOK_EVENT_BUDGET_MS: number = 2000;

  /** Days a finished webhook event (processed, ignored, unknown_line, failed) is kept before it is purged. */
  @IsOptional() @IsInt() @Min(1) @Transform(toNumber)
  WEBHOOK_EVENTS_RETENTION_DAYS: number = 30;

  get embedded(): boolean {
    return !this.DATABASE_URL;
  }

  get allowLocalUrls(): boolean {
    return this.ALLOW_LOCAL_URLS ?? this.embedded;
  }
}

export class ConfigError extends Error {}

const KEYS = [
  'PORT', 'DATABASE_URL', 'DATA_DIR', 'EMBEDDED_PG_PORT', 'ADMIN_TOKEN', 'LOG_LEVEL', 'BODY_LIMIT_BYTES', 'PUBLIC_URL',
  'ALLOW_LOCAL_URLS', 'GRAPH_API_BASE_URL', 'GRAPH_API_VERSION', 'SANDBOX_APPROVAL_DELAY_SECONDS', 'SANDBOX_STATUS_DELAY_MS', 'WORKERS_ENABLED',
  'PROCESSES', 'WEBHOOK_EVENT_BUDGET_MS', 'WEBHOOK_EVENTS_RETENTION_DAYS', 'MEDIA_MAX_BYTES',
] as const;

/** Parses and validates an environment; throws ConfigError with one line per bad variable. */
export function loadConfig(env: Record<string, string | undefined>): AppConfig {
  const relevant = Object.fromEntries(KEYS.filter((k) => env[k] !== undefined && env[k] !== '').map((k) => [k, env[k]]));
  const config = plainToInstance(AppConfig, relevant);
  const errors = validateSync(config);
  if (errors.length > 0) {
    const lines = errors.map((e) => `  ${e.property}=${JSON.stringify(relevant[e.property])}: ${Object.values(e.constraints ?? {}).join('; ')}`);
    throw new ConfigError(`Invalid environment:\n${lines.join('\n')}`);
  }
  return config;
}
