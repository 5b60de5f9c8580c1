/**
 * What other domains may use of experiments. To show a member a variant from the server (a
 * prompt's copy, a recommendation strategy), the composition root (src/app.ts) hands the domain
 * `services.experiments.variantFor` as a `VariantLookup`; it returns the same assignment as the
 * API's `variant` field and records the member's exposure once, so the results count that member.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Assignment } from './experiment.service';

export { ExperimentService, type Assignment } from './experiment.service';
export { assignVariant, bucketHash } from './experiment.rules';
export { ExperimentStatus } from './experiment.entity';

/** The server-side signature a domain takes (injected by app.ts; a domain never builds the service). */
export type VariantLookup = (em: EntityManager, experimentKey: string, memberId: string) => Promise<Assignment>;
