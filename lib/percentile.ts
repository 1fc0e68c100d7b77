// Nearest-rank percentiles, the one definition every figure in the project uses: p99 of 50
// samples is the largest but one, never an interpolated value nobody measured.

/** The p-th percentile (0-100); NaN for none. */
export function percentile(xs: readonly number[], p: number): number {
  if (!xs.length) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
