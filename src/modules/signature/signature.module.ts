import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SigningModule } from '../../signing/signing.module.js';
import { SmsModule } from '../../sms/sms.module.js';
import { ConversationsModule } from '../conversations/conversations.module.js';
import { DocumentsModule } from '../documents/documents.module.js';
import { FlowsModule } from '../flows/flows.module.js';
import { HooksModule } from '../hooks/hooks.module.js';
import { TenantsModule } from '../tenants/tenants.module.js';
import { StorageModule } from '../../storage/storage.module.js';
import { MessagesModule } from '../messages/messages.module.js';
import { OutboundsModule } from '../outbounds/outbounds.module.js';
import { TemplatesModule } from '../templates/templates.module.js';
import { CertificateRenderer } from './certificate-renderer.js';
import { CertificatesService } from './certificates.service.js';
import { CheckpointHooks } from './checkpoint-hooks.js';
import { ContractsController } from './contracts.controller.js';
import { CustodyController } from './custody.controller.js';
import { CustodyService } from './custody.service.js';
import './dto/custody.dto.js';
import { ContractsService } from './contracts.service.js';
import './dto/contract.dto.js';
import { Contract } from './entities/contract.entity.js';
import { EvidenceCertificate } from './entities/evidence-certificate.entity.js';
import { LegalHold } from './entities/legal-hold.entity.js';
import { OtpChallenge } from './entities/otp-challenge.entity.js';
import { OtpService } from './otp.service.js';
import { DocumentStepType } from './steps/document.step.js';
import { OtpStepType } from './steps/otp.step.js';
import { SignatureStepType } from './steps/signature.step.js';
import { VerificationController } from './verification.controller.js';
import { VerificationService } from './verification.service.js';

/**
 * Certified contracting: the `document`, `otp` and `signature` step types (registered into the engine's step
 * registry), the contract of each process with its signed copy, one-time codes, and the signed PDF in the results API;
 * the certificate of evidence of every finished process, and the verification of both PDFs (public and per process);
 * the `evidence.checkpoint` hook of every signed checkpoint.
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([Contract, OtpChallenge, EvidenceCertificate, LegalHold]),
    FlowsModule,
    TenantsModule,
    StorageModule,
    ConversationsModule,
    DocumentsModule,
    HooksModule,
    MessagesModule,
    OutboundsModule,
    TemplatesModule,
    SigningModule,
    SmsModule,
  ],
  controllers: [ContractsController, VerificationController, CustodyController],
  providers: [
    ContractsService,
    CertificatesService,
    CertificateRenderer,
    CheckpointHooks,
    VerificationService,
    CustodyService,
    OtpService,
    DocumentStepType,
    OtpStepType,
    SignatureStepType,
  ],
})
export class SignatureModule {}
