import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { plainToInstance, Transform } from 'class-transformer';
import { IsArray, IsBoolean, IsIn, IsInt, IsNotEmpty, IsObject, IsOptional, IsString, Matches, Max, MaxLength, Min, ValidateBy, ValidateNested } from 'class-validator';
import { AlsoValidate, type DtoCheck } from '../../../common/errors/validation.js';
import { StepTypes } from '../steps/step-types.service.js';
import { PageQueryDto } from '../../../common/http/pagination.js';
import { validateFlowSteps } from '../flow-validation.js';
import { ParseJsonString, ToBoolean, ToInt, Trim } from '../../../common/http/transforms.js';
import { DEFAULT_FLOW_SETTINGS, type FlowSettings, LIMITS } from '../flow-definition.js';
import type { StepDefinition } from '../steps/step-type.js';
import { EXPIRATION_MINUTES, FOLLOW_UP_DELAY, parseBusinessHour } from '../flow-settings.js';
import { FLOW_STATUSES, type Flow, type FlowStatus } from '../entities/flow.entity.js';
import type { FlowVersion } from '../entities/flow-version.entity.js';

/** A nested object that form bodies carry as a JSON string; becomes an instance of `cls` so it is validated. */
const JsonObject = (cls: new () => object) =>
  Transform(({ value }) => {
    let v: unknown = value;
    if (typeof v === 'string') {
      try {
        v = JSON.parse(v);
      } catch {
        return value;
      }
    }
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? plainToInstance(cls, v) : v;
  });

const IsBusinessHour = () =>
  ValidateBy({
    name: 'isBusinessHour',
    validator: {
      validate: (v: unknown) => parseBusinessHour(v) !== null,
      defaultMessage: (args) => `${args?.property} must be a UTC time of day as HH:MM (e.g. 13:00) or an ISO date-time (e.g. 2021-01-01T13:00:00.000Z)`,
    },
  });

export const EXAMPLE_STEPS: Array<StepDefinition & Record<string, unknown>> = [
  { id: 'welcome', type: 'message', text: 'Hola 👋 Vamos a verificar tu identidad.' },
  { id: 'terms', type: 'consent', text: '¿Aceptas el tratamiento de tus datos personales?', accept_title: 'Acepto', decline_title: 'No acepto' },
  {
    id: 'doc_type',
    type: 'choice',
    text: '¿Qué documento tienes?',
    style: 'buttons',
    options: [
      { id: 'cc', title: 'Cédula' },
      { id: 'passport', title: 'Pasaporte', next: 'email' },
    ],
  },
  {
    id: 'cedula',
    type: 'question',
    text: 'Escribe tu número de cédula',
    validator: { type: 'national_id', country: 'CO' },
    error_text: 'Ese número no parece una cédula válida, inténtalo de nuevo',
  },
  { id: 'email', type: 'question', text: '¿Cuál es tu correo?', validator: { type: 'email' }, max_attempts: 3 },
  { id: 'birth_date', type: 'question', text: 'Fecha de nacimiento (DD/MM/AAAA)', validator: { type: 'date', format: 'DD/MM/YYYY', max: '2007-12-31' } },
  { id: 'id_photo', type: 'media', text: 'Envía una foto de tu documento', accept: ['image', 'document'] },
  { id: 'done', type: 'end', outcome: 'succeeded', text: '¡Listo! Ya verificamos tus datos.' },
];

const STEPS_DESCRIPTION =
  `Ordered steps (1 to ${LIMITS.steps}), each an object with a unique \`id\` and a \`type\`; the fields of each type ` +
  'are in its schema (`FlowStep` lists them all). Any step that goes on may have `next` (a step id), else the ' +
  'following step runs. Every step must be able to reach a step that finishes (`end`) and no path may run past the ' +
  'last step. In form bodies: a JSON string.';

/** The steps' schema: one per registered step type, added to the document by buildOpenApi (app.setup.ts). */
export const FLOW_STEP_SCHEMA = 'FlowStep';
const STEPS_ITEMS = { $ref: `#/components/schemas/${FLOW_STEP_SCHEMA}` };

export class FlowSettingsInputDto {
  @ApiPropertyOptional({
    default: DEFAULT_FLOW_SETTINGS.expiration_minutes,
    minimum: EXPIRATION_MINUTES.min,
    maximum: EXPIRATION_MINUTES.max,
    description: 'Minutes a process may take before it expires',
  })
  @IsOptional()
  @ToInt()
  @IsInt()
  @Min(EXPIRATION_MINUTES.min)
  @Max(EXPIRATION_MINUTES.max)
  expiration_minutes?: number;

  @ApiPropertyOptional({ default: DEFAULT_FLOW_SETTINGS.language, example: 'es', description: 'Language of the fixed texts (e.g. the Sí/No of follow-ups)' })
  @IsOptional()
  @Trim()
  @IsString()
  @Matches(/^[a-z]{2}(-[A-Z]{2})?$/, { message: 'language must be a language code such as es, en or pt-BR' })
  language?: string;

  @ApiPropertyOptional({ default: false, description: 'Send one re-engagement message after inactivity' })
  @IsOptional()
  @ToBoolean()
  @IsBoolean()
  enable_follow_up?: boolean;

  @ApiPropertyOptional({
    default: DEFAULT_FLOW_SETTINGS.follow_up_delay,
    minimum: FOLLOW_UP_DELAY.min,
    maximum: FOLLOW_UP_DELAY.max,
    description: 'Minutes of inactivity before the follow-up',
  })
  @IsOptional()
  @ToInt()
  @IsInt({ message: `follow_up_delay must be a whole number of minutes from ${FOLLOW_UP_DELAY.min} to ${FOLLOW_UP_DELAY.max}` })
  @Min(FOLLOW_UP_DELAY.min, { message: `follow_up_delay must be from ${FOLLOW_UP_DELAY.min} to ${FOLLOW_UP_DELAY.max} minutes` })
  @Max(FOLLOW_UP_DELAY.max, { message: `follow_up_delay must be from ${FOLLOW_UP_DELAY.min} to ${FOLLOW_UP_DELAY.max} minutes` })
  follow_up_delay?: number;

  @ApiPropertyOptional({ default: DEFAULT_FLOW_SETTINGS.follow_up_message, maxLength: LIMITS.interactiveText })
  @IsOptional()
  @Trim()
  @IsString()
  @IsNotEmpty()
  @MaxLength(LIMITS.interactiveText)
  follow_up_message?: string;

  @ApiPropertyOptional({
    default: DEFAULT_FLOW_SETTINGS.start_business_hours,
    example: '2021-01-01T13:00:00.000Z',
    description: 'Start of the business window, UTC: HH:MM or an ISO date-time (only the time of day counts)',
  })
  @IsOptional()
  @IsBusinessHour()
  start_business_hours?: string;

  @ApiPropertyOptional({
    default: DEFAULT_FLOW_SETTINGS.end_business_hours,
    example: '00:00',
    description: 'End of the business window, UTC (exclusive). Before the start: the window crosses midnight; equal to it: always open',
  })
  @IsOptional()
  @IsBusinessHour()
  end_business_hours?: string;
}

/** The steps' own rules, answered with the DTO's (a type error elsewhere does not hide a broken step). */
const checkSteps: DtoCheck<{ steps?: unknown }> = (dto, providers) => (dto.steps === undefined ? [] : validateFlowSteps(dto.steps, providers(StepTypes).all()));

@AlsoValidate(checkSteps)
export class CreateFlowDto {
  @ApiProperty({ example: 'KYC Colombia', maxLength: 200 })
  @Trim()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name: string;

  @ApiProperty({ type: 'array', items: STEPS_ITEMS, description: STEPS_DESCRIPTION, example: EXAMPLE_STEPS })
  @ParseJsonString()
  @IsArray({ message: 'steps must be an array of step objects (in form bodies, a JSON string)' })
  steps: unknown[];

  @ApiPropertyOptional({ type: FlowSettingsInputDto, description: 'Unset fields take their defaults. In form bodies: a JSON string.' })
  @IsOptional()
  @JsonObject(FlowSettingsInputDto)
  @IsObject({ message: 'settings must be an object (in form bodies, a JSON string)' })
  @ValidateNested()
  settings?: FlowSettingsInputDto;
}

/** PUT replaces the whole definition (unset settings take their defaults). */
export class ReplaceFlowDto extends CreateFlowDto {}

/** PATCH changes only what it names; `settings` fields are merged into the current ones. */
@AlsoValidate(checkSteps)
export class PatchFlowDto {
  @ApiPropertyOptional({ example: 'KYC Colombia v2', maxLength: 200 })
  @IsOptional()
  @Trim()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({ type: 'array', items: STEPS_ITEMS, description: STEPS_DESCRIPTION })
  @IsOptional()
  @ParseJsonString()
  @IsArray({ message: 'steps must be an array of step objects (in form bodies, a JSON string)' })
  steps?: unknown[];

  @ApiPropertyOptional({ type: FlowSettingsInputDto })
  @IsOptional()
  @JsonObject(FlowSettingsInputDto)
  @IsObject({ message: 'settings must be an object (in form bodies, a JSON string)' })
  @ValidateNested()
  settings?: FlowSettingsInputDto;
}

export class GetFlowQueryDto {
  @ApiPropertyOptional({ minimum: 1, description: 'A specific version; default the latest' })
  @IsOptional()
  @ToInt()
  @IsInt()
  @Min(1)
  version?: number;
}

export class ListFlowsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: FLOW_STATUSES })
  @IsOptional()
  @IsIn(FLOW_STATUSES as unknown as string[], { message: `status must be one of: ${FLOW_STATUSES.join(', ')}` })
  status?: FlowStatus;
}

export class FlowSettingsDto implements FlowSettings {
  @ApiProperty({ example: 1440 }) expiration_minutes: number;
  @ApiProperty({ example: 'es' }) language: string;
  @ApiProperty({ example: false }) enable_follow_up: boolean;
  @ApiProperty({ example: 120 }) follow_up_delay: number;
  @ApiProperty({ example: 'Tienes un proceso activo en curso' }) follow_up_message: string;
  @ApiProperty({ example: '13:00', description: 'HH:MM, UTC' }) start_business_hours: string;
  @ApiProperty({ example: '00:00', description: 'HH:MM, UTC' }) end_business_hours: string;
}

export class FlowSummaryDto {
  @ApiProperty({ example: 'FLW01JD3V6Q4T1Z0K6M3P9X2Y5B7C' }) id: string;
  @ApiProperty({ example: 'KYC Colombia' }) name: string;
  @ApiProperty({ enum: FLOW_STATUSES }) status: FlowStatus;
  @ApiProperty({ example: 2, description: 'The latest version' }) latest_version: number;
  @ApiProperty() created_at: string;
  @ApiProperty() updated_at: string;
  @ApiProperty({ nullable: true, type: String }) archived_at: string | null;

  static from(f: Flow): FlowSummaryDto {
    return {
      id: f.id,
      name: f.name,
      status: f.status,
      latest_version: f.latestVersion,
      created_at: f.createdAt.toISOString(),
      updated_at: f.updatedAt.toISOString(),
      archived_at: f.archivedAt?.toISOString() ?? null,
    };
  }
}

export class FlowDto extends FlowSummaryDto {
  @ApiProperty({ example: 2, description: 'The version shown (latest unless `?version=` asked for another)' }) version: number;
  @ApiProperty({ description: 'When this version was created' }) version_created_at: string;
  @ApiProperty({ type: 'array', items: STEPS_ITEMS, description: 'The steps of this version', example: EXAMPLE_STEPS }) steps: StepDefinition[];
  @ApiProperty({ type: FlowSettingsDto, description: 'Settings of this version, defaults applied' }) settings: FlowSettingsDto;

  static fromVersion(f: Flow, v: FlowVersion): FlowDto {
    return {
      ...FlowSummaryDto.from(f),
      name: v.definition.name,
      version: v.version,
      version_created_at: v.createdAt.toISOString(),
      steps: v.definition.steps,
      settings: v.definition.settings,
    };
  }
}
