import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SigningModule } from '../../signing/signing.module.js';
import { CheckpointsController } from './checkpoints.controller.js';
import { EvidenceCheckpoint } from './entities/evidence-checkpoint.entity.js';
import { EvidenceCheckpointsCron } from './evidence-checkpoints.cron.js';
import { EvidenceCheckpoints } from './evidence-checkpoints.service.js';
import { EvidenceLog } from './evidence-log.js';

/** The evidence log (hash chains per process) and the signed Merkle checkpoints of each tenant's events. */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([EvidenceCheckpoint]), SigningModule],
  controllers: [CheckpointsController],
  providers: [EvidenceLog, EvidenceCheckpoints, EvidenceCheckpointsCron],
  exports: [EvidenceLog, EvidenceCheckpoints],
})
export class EvidenceModule {}
