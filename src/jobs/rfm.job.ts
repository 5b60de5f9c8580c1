import type { MikroORM } from '@mikro-orm/postgresql';
import type { RfmRunResult, SegmentService } from '../lifecycle/segment.service';

/** RFM segments once per local day (claimed in rfm_run: one instance computes, the others skip). */
export class RfmJob {
  readonly name = 'rfm-segments';

  constructor(private readonly deps: { orm: MikroORM; segments: SegmentService; batchSize?: number }) {}

  run(): Promise<RfmRunResult> {
    return this.deps.segments.run(this.deps.orm.em.fork(), this.deps.batchSize);
  }
}
