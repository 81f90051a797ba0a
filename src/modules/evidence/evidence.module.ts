import { Global, Module } from '@nestjs/common';
import { EvidenceLog } from './evidence-log.js';

/** The evidence log (hash chains per process), for the modules whose changes it records. */
@Global()
@Module({ providers: [EvidenceLog], exports: [EvidenceLog] })
export class EvidenceModule {}
