import { Member } from '../../members/member.entity';
import { Tier } from '../../members/tier.entity';

/** Every persisted entity, by domain. */
export const ENTITIES = [Member, Tier];
