// Summaries of repeated measurements: median with min–max for whole runs, nearest-rank percentiles for samples.

export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * p) - 1))];
}

export const median = (values) => percentile(values, 0.5);

/** `{ median, min, max, n }` of repeated runs. */
export function summarize(values) {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), n: values.length };
}

/** `{ p50, p99, max, n }` of latency samples. */
export function latencies(values) {
  return { p50: percentile(values, 0.5), p99: percentile(values, 0.99), max: Math.max(...values), n: values.length };
}
