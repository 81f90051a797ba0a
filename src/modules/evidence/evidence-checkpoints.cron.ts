import { Injectable } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import type { CronRun } from '../../common/workers/cron-run.js';
import { Workers } from '../../common/workers/workers.js';
import { EvidenceCheckpoints } from './evidence-checkpoints.service.js';

/**
 * Every second: new evidence events become leaves, and a tenant whose last checkpoint is EVIDENCE_CHECKPOINT_SECONDS
 * old gets a new one. Safe on every instance: each tenant's tree is worked on under an advisory lock that the others
 * skip.
 */
@Injectable()
export class EvidenceCheckpointsCron {
  private readonly runs: CronRun;

  constructor(checkpoints: EvidenceCheckpoints, workers: Workers) {
    this.runs = workers.cron(EvidenceCheckpointsCron.name, () => checkpoints.run());
  }

  @Interval(1_000)
  onInterval(): Promise<void> {
    return this.runs.run();
  }
}
