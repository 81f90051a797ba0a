import { Injectable } from '@nestjs/common';
import { CheckpointDto } from '../evidence/dto/checkpoint.dto.js';
import { EvidenceCheckpoints } from '../evidence/evidence-checkpoints.service.js';
import { HooksService } from '../hooks/hooks.service.js';

/**
 * Sends every evidence checkpoint as the `evidence.checkpoint` hook, in the transaction that stores it, so the client
 * holds a signed copy of each tree root that we cannot rewrite later (the evidence module sits below the hooks).
 */
@Injectable()
export class CheckpointHooks {
  constructor(checkpoints: EvidenceCheckpoints, hooks: HooksService) {
    checkpoints.onIssued(async (m, checkpoint) => {
      await hooks.emit(m, { tenantId: checkpoint.tenantId, type: 'evidence.checkpoint', data: CheckpointDto.of(checkpoint) });
    });
  }
}
