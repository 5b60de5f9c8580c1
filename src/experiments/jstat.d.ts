/** The two distributions the experiment statistics use from jstat, which ships no types. */
declare module 'jstat' {
  export const jStat: {
    normal: { cdf(x: number, mean: number, std: number): number };
    chisquare: { cdf(x: number, degreesOfFreedom: number): number };
  };
}
