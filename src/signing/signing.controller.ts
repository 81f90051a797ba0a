import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { IpRateLimit } from '../common/rate-limit/rate-limiter.js';
import { SigningKey } from './signing-key.port.js';

@ApiTags('Signing')
@Controller('v1/signing')
export class SigningController {
  constructor(private readonly key: SigningKey) {}

  /** Public: whoever holds a signed PDF can fetch the chain to check it (no API key). */
  @Get('certificates')
  @IpRateLimit()
  @Header('Content-Type', 'application/x-pem-file')
  @Header('Cache-Control', 'public, max-age=300')
  @ApiOperation({
    summary: 'The signing certificate chain (PEM), signing certificate first, root last — public, no API key',
    description:
      'The certificates that signed PDFs carry, to verify them (e.g. trust the last one with `certutil -A` for `pdfsig`, or pass it as `-CAfile` to `openssl cms -verify`). ' +
      'On a trial installation the root is a generated trial CA that no one else trusts.',
  })
  @ApiProduces('application/x-pem-file')
  @ApiOkResponse({ description: 'PEM certificates, one after another', schema: { type: 'string', example: '-----BEGIN CERTIFICATE-----\nMIID…\n-----END CERTIFICATE-----\n' } })
  async certificates(): Promise<string> {
    return (await this.key.chain()).pem;
  }
}
