import { ArrayType } from '@mikro-orm/core';

/** int[] columns as number[] (MikroORM's ArrayType alone would map to text[]). */
export class IntArrayType extends ArrayType<number> {
  constructor() {
    super((value) => Number(value));
  }
  override getColumnType(): string {
    return 'int[]';
  }
}
