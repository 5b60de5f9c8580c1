import { Field, Float, ObjectType, registerEnumType } from 'type-graphql';
import { CatalogItemType } from '../catalog/catalog.types';

export enum RecommendationReason {
  SIMILAR_TO_HISTORY = 'SIMILAR_TO_HISTORY',
  POPULAR_WITH_SIMILAR_MEMBERS = 'POPULAR_WITH_SIMILAR_MEMBERS',
  USES_EXPIRING_POINTS = 'USES_EXPIRING_POINTS',
  FITS_BALANCE = 'FITS_BALANCE',
  POPULAR = 'POPULAR',
}
registerEnumType(RecommendationReason, { name: 'RecommendationReason' });

// Plain fields read straight off the object: no type-graphql middleware chain per field (simpleResolvers).
@ObjectType('Recommendation', { simpleResolvers: true })
export class RecommendationType {
  @Field(() => CatalogItemType) item!: CatalogItemType;
  @Field(() => Float) score!: number;
  @Field(() => RecommendationReason) reasonCode!: RecommendationReason;
  @Field(() => String, { description: "Human-readable reason in the member's language." }) reason!: string;
}
