// Nearest-rank percentiles, the one definition every figure in the project uses: p99 of 50
// samples is the largest but one, never an interpolated value nobody measured.

/** The p-th percentile (0-100) of numbers already sorted ascending; NaN for none. */
export function percentileOfSorted(sorted: readonly number[], p: number): number {
  if (!sorted.length) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** The p-th percentile (0-100) of numbers in any order; NaN for none. */
export function percentile(xs: readonly number[], p: number): number {
  return percentileOfSorted([...xs].sort((a, b) => a - b), p);
}
