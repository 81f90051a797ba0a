import { Controller, Get, Header, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiExcludeEndpoint, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiErrors } from '../../common/http/api-errors.decorator.js';
import { VerifyRateLimit } from '../../common/rate-limit/rate-limiter.js';
import { DOCUMENT_MAX_BYTES, readUpload } from '../documents/upload-body.js';
import { UploadVerificationDto } from './dto/verification.dto.js';
import { verificationPage, verificationResultPage } from './verification-page.js';
import { VerificationService } from './verification.service.js';

/** Read from the request stream by the handler: the global body parsers leave it alone. */
export const VERIFY_UPLOAD_ROUTE = { method: 'POST', path: '/v1/verify' } as const;

@ApiTags('Verification')
@Controller()
export class VerificationController {
  constructor(private readonly verification: VerificationService) {}

  /** Public: whoever holds a signed contract or a certificate of evidence can check it here (no API key). */
  @Post('v1/verify')
  @HttpCode(200)
  @VerifyRateLimit()
  @ApiOperation({
    summary: 'Checks a PDF issued here (signed contract or certificate of evidence) — public, no API key, rate-limited per address',
    description:
      'Multipart `file` or a raw `application/pdf` body (at most 20 MB). Says whether we issued it, which kind it is and for which process, whether it is intact ' +
      '(byte for byte the file issued, sealed over all of it) and what its signature says; nothing about the person. ' +
      'A browser form post (Accept: text/html) gets the answer as a page. VERIFY_RATE_LIMIT_PER_MINUTE (30) a minute per client address.',
  })
  @ApiConsumes('multipart/form-data', 'application/pdf')
  @ApiBody({ schema: { type: 'object', properties: { file: { type: 'string', format: 'binary' } }, required: ['file'] } })
  @ApiOkResponse({ type: UploadVerificationDto })
  @ApiErrors([400, 'INVALID_PDF'], [413, 'PAYLOAD_TOO_LARGE'], [415, 'UNSUPPORTED_MEDIA_TYPE'])
  async verify(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<UploadVerificationDto | string> {
    const upload = await readUpload(req, res, DOCUMENT_MAX_BYTES);
    const result = await this.verification.verifyUpload(upload.bytes);
    if (req.accepts(['application/json', 'text/html']) === 'text/html') {
      res.type('html');
      return verificationResultPage(result);
    }
    return result;
  }

  /** The page a person opens from a QR code: a plain form posting to POST /v1/verify. */
  @Get('verify')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'public, max-age=300')
  @ApiExcludeEndpoint()
  page(): string {
    return verificationPage();
  }
}
