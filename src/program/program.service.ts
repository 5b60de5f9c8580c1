import type { EntityManager } from '@mikro-orm/postgresql';
import { ProgramSettings } from './program.entity';

/** Program-wide settings; read per use case so every instance sees a change at once. */
export class ProgramService {
  async settings(em: EntityManager): Promise<ProgramSettings> {
    return em.findOneOrFail(ProgramSettings, { id: 1 }, { refresh: true });
  }
}
