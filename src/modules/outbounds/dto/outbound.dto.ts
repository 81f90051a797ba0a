import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsDefined, IsIn, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { PageQueryDto } from '../../../common/http/pagination.js';
import { ParseJsonString, ToBoolean, Trim } from '../../../common/http/transforms.js';
import { TEMPLATE_STATUSES, type TemplateStatus } from '../../../whatsapp/whatsapp.types.js';
import { OPTION_ACTIONS, OUTBOUND_CATEGORIES, TEMPLATE_TYPES, type OutboundCategory, type OutboundOption, type TemplateType } from '../entities/outbound.entity.js';
import { AlsoValidate } from '../../../common/errors/validation.js';
import { createOutboundProblems, LIMITS } from '../outbound-content.js';

const list = (values: readonly string[]) => values.join(', ');

export const EXAMPLE_OPTIONS = [
  { message: 'Sí', action: 'continue_process' },
  { message: 'No', action: 'cancel_process' },
];

@AlsoValidate(createOutboundProblems)
export class CreateOutboundDto {
  @ApiProperty({ example: '+573001234567', description: 'Phone number with country code of one of your WhatsApp lines; it sends this outbound' })
  @Trim()
  @IsString()
  @IsNotEmpty()
  waba_phone_number: string;

  @ApiProperty({ example: false, description: '`true`: a single notification; `false`: an invitation into a verification flow (needs `options`, and `flow_id` when sending)' })
  @IsDefined({ message: 'is_notification is required (true or false)' })
  @ToBoolean()
  @IsBoolean({ message: 'is_notification must be true or false' })
  is_notification: boolean;

  @ApiProperty({
    example: 'Hola {1}, ¿estás listo para iniciar el proceso?',
    maxLength: LIMITS.content,
    description:
      'The text. Parameters are numbered from 1 in single or double braces (`{1}` or `{{1}}`, stored as `{{1}}`), without gaps; ' +
      'the text may not start or end with a parameter (WhatsApp refuses it).',
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(LIMITS.content)
  content: string;

  @ApiProperty({
    enum: OUTBOUND_CATEGORIES,
    example: 'ACCOUNT_UPDATE',
    description: 'Kept as sent. WhatsApp only takes UTILITY, MARKETING and AUTHENTICATION: the other (legacy) categories are submitted as UTILITY.',
  })
  @Trim()
  @IsIn(OUTBOUND_CATEGORIES as unknown as string[], { message: `category must be one of: ${list(OUTBOUND_CATEGORIES)}` })
  category: OutboundCategory;

  @ApiProperty({ enum: TEMPLATE_TYPES, example: 'TEXT', description: 'TEXT, or a header of the given kind (media_url required)' })
  @Trim()
  @IsIn(TEMPLATE_TYPES as unknown as string[], { message: `template_type must be one of: ${list(TEMPLATE_TYPES)}` })
  template_type: TemplateType;

  @ApiProperty({ example: 'es', description: 'Template language, e.g. es, es_MX, en, pt_BR' })
  @Trim()
  @IsString()
  @IsNotEmpty()
  language_code: string;

  @ApiPropertyOptional({
    example: 'https://example.com/banner.jpg',
    description:
      'Required when template_type is not TEXT: an absolute https URL of the header media. For LOCATION, a maps link with the ' +
      'coordinates (e.g. `https://maps.google.com/?q=4.6097,-74.0817`), used as the header location on every send.',
  })
  @IsOptional()
  @Trim()
  @IsString()
  media_url?: string;

  @ApiPropertyOptional({
    type: 'array',
    items: { type: 'object', properties: { message: { type: 'string', maxLength: LIMITS.optionText }, action: { type: 'string', enum: [...OPTION_ACTIONS] } } },
    example: EXAMPLE_OPTIONS,
    description:
      `Required when is_notification is false (and only then): quick-reply buttons, 1 to ${LIMITS.options}, exactly one \`continue_process\`, ` +
      `button text ≤ ${LIMITS.optionText} characters. In form bodies: a JSON string.`,
  })
  @IsOptional()
  @ParseJsonString()
  options?: unknown;

  @ApiPropertyOptional({ example: 'Pepe', description: 'Required when the content has parameters: comma-separated examples, one per parameter (for WhatsApp’s review)' })
  @IsOptional()
  @IsString()
  example_params?: string;
}

export class ListOutboundsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: TEMPLATE_STATUSES })
  @IsOptional()
  @IsIn(TEMPLATE_STATUSES as unknown as string[], { message: `status must be one of: ${list(TEMPLATE_STATUSES)}` })
  status?: TemplateStatus;

  @ApiPropertyOptional({ example: '+573001234567', description: 'Only outbounds of this line: its phone number (with country code) or its id' })
  @IsOptional()
  @Trim()
  @IsString()
  line?: string;
}

export class OutboundOptionDto implements OutboundOption {
  @ApiProperty({ example: 'Sí' }) message: string;
  @ApiProperty({ enum: OPTION_ACTIONS }) action: OutboundOption['action'];
}

export class OutboundDto {
  @ApiProperty({ example: 'OUT01JD3V6Q4T1Z0K6M3P9X2Y5B7C' }) outbound_id: string;
  @ApiProperty({
    enum: TEMPLATE_STATUSES,
    description: 'PENDING (in review), APPROVED (usable), REJECTED (see rejection_reason; create a new one), PAUSED or DISABLED (reported by WhatsApp)',
  })
  status: TemplateStatus;
  @ApiProperty({ nullable: true, type: String, example: null, description: 'Why WhatsApp rejected it (REJECTED only)' }) rejection_reason: string | null;
  @ApiProperty({ example: '+573001234567' }) waba_phone_number: string;
  @ApiProperty({ example: 'WAN01JD3V6Q4T1Z0K6M3P9X2Y5B7C' }) line_id: string;
  @ApiProperty({ example: false }) is_notification: boolean;
  @ApiProperty({ example: 'Hola {{1}}, ¿estás listo para iniciar el proceso?', description: 'Parameters written {{n}}' }) content: string;
  @ApiProperty({ example: 1 }) param_count: number;
  @ApiProperty({ enum: OUTBOUND_CATEGORIES, description: 'As created' }) category: OutboundCategory;
  @ApiProperty({ enum: TEMPLATE_TYPES }) template_type: TemplateType;
  @ApiProperty({ example: 'es' }) language_code: string;
  @ApiProperty({ nullable: true, type: String }) media_url: string | null;
  @ApiProperty({ nullable: true, type: [OutboundOptionDto] }) options: OutboundOptionDto[] | null;
  @ApiProperty({ type: [String], example: ['Pepe'] }) example_params: string[];
  @ApiProperty({ example: 'tg_01jd3v6q4t1z0k6m3p9x2y5b7c', description: 'Name of the WhatsApp template behind it' }) template_name: string;
  @ApiProperty({ example: 'UTILITY', description: 'Category submitted to WhatsApp' }) submitted_category: string;
  @ApiProperty({ nullable: true, type: String, description: 'Last error submitting the template to WhatsApp (it is retried while PENDING)' })
  submission_error: string | null;
  @ApiProperty() created_at: string;
  @ApiProperty() updated_at: string;
}
