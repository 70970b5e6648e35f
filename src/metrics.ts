/**
 * Prometheus metrics in the text exposition format (version 0.0.4): counters, gauges and
 * histograms with labels. Small on purpose — the service exports a handful of series.
 */

type Labels = Record<string, string>;

const NEEDS_ESCAPE = /[\\"\n]/;

function escapeLabelValue(value: string): string {
  // Counted on every HTTP request: skip the three replacements for the usual plain value.
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function labelKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((name) => `${name}="${escapeLabelValue(String(labels[name]))}"`)
    .join(",");
}

function series(name: string, key: string, value: number): string {
  return `${name}${key ? `{${key}}` : ""} ${Number.isFinite(value) ? value : 0}`;
}

interface Metric {
  render(): string[];
}

export class Counter implements Metric {
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(labels: Labels = {}, amount = 1): void {
    const key = labelKey(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + amount);
  }

  get(labels: Labels = {}): number {
    return this.values.get(labelKey(labels)) ?? 0;
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const [key, value] of this.values) lines.push(series(this.name, key, value));
    return lines;
  }
}

export class Gauge implements Metric {
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
    /** Computes current values at scrape time (e.g. from the database). */
    private readonly collect?: () => [Labels, number][],
  ) {}

  set(labels: Labels, value: number): void {
    this.values.set(labelKey(labels), value);
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`];
    const values = new Map(this.values);
    for (const [labels, value] of this.collect?.() ?? []) values.set(labelKey(labels), value);
    for (const [key, value] of values) lines.push(series(this.name, key, value));
    return lines;
  }
}

export class Histogram implements Metric {
  private readonly data = new Map<string, { buckets: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
  ) {}

  observe(value: number, labels: Labels = {}): void {
    const key = labelKey(labels);
    let entry = this.data.get(key);
    if (!entry) {
      entry = { buckets: this.bounds.map(() => 0), sum: 0, count: 0 };
      this.data.set(key, entry);
    }
    this.bounds.forEach((bound, index) => {
      if (value <= bound && entry) entry.buckets[index] = (entry.buckets[index] ?? 0) + 1;
    });
    entry.sum += value;
    entry.count += 1;
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [key, entry] of this.data) {
      const prefix = key ? `${key},` : "";
      this.bounds.forEach((bound, index) => {
        lines.push(`${this.name}_bucket{${prefix}le="${bound}"} ${entry.buckets[index] ?? 0}`);
      });
      lines.push(`${this.name}_bucket{${prefix}le="+Inf"} ${entry.count}`);
      lines.push(series(`${this.name}_sum`, key, entry.sum));
      lines.push(series(`${this.name}_count`, key, entry.count));
    }
    return lines;
  }
}

export class Registry {
  private readonly metrics: Metric[] = [];

  add<T extends Metric>(metric: T): T {
    this.metrics.push(metric);
    return metric;
  }

  render(): string {
    return `${this.metrics.flatMap((metric) => metric.render()).join("\n")}\n`;
  }
}

/** The service's metrics, created once per process and handed to the parts that update them. */
export function createServiceMetrics(collectTrackings?: () => [Labels, number][]) {
  const registry = new Registry();
  return {
    registry,
    scans: registry.add(new Counter("patch_tracking_scans_total", "Tracking scans by outcome.")),
    scanDuration: registry.add(
      new Histogram(
        "patch_tracking_scan_duration_seconds",
        "Duration of a scan of all trackings.",
        [0.1, 0.5, 1, 5, 15, 30, 60, 300, 900],
      ),
    ),
    publishRuns: registry.add(
      new Counter(
        "patch_tracking_publish_runs_total",
        "Publish run attempts by outcome (done, failed).",
      ),
    ),
    upstreamRequests: registry.add(
      new Counter(
        "patch_tracking_upstream_requests_total",
        "GitHub API requests by status (0: no answer).",
      ),
    ),
    giteeRequests: registry.add(
      new Counter(
        "patch_tracking_gitee_requests_total",
        "Gitee API requests by method and status (0: no answer).",
      ),
    ),
    rateLimitRemaining: registry.add(
      new Gauge(
        "patch_tracking_rate_limit_remaining",
        "Requests left in the current rate-limit window.",
      ),
    ),
    trackings: registry.add(
      new Gauge("patch_tracking_trackings", "Trackings by state.", collectTrackings),
    ),
    breakerState: registry.add(
      new Gauge(
        "patch_tracking_forge_breaker_open",
        "1 while a forge's circuit breaker is open (the forge is unreachable), else 0.",
      ),
    ),
    breakerTransitions: registry.add(
      new Counter(
        "patch_tracking_forge_breaker_transitions_total",
        "Circuit breaker transitions by forge and new state (open, closed).",
      ),
    ),
    breakerProbes: registry.add(
      new Counter(
        "patch_tracking_forge_breaker_probes_total",
        "Probe requests sent to unreachable forges.",
      ),
    ),
    httpRequests: registry.add(
      new Counter(
        "patch_tracking_http_requests_total",
        "API requests by route, method and status.",
      ),
    ),
  };
}

export type ServiceMetrics = ReturnType<typeof createServiceMetrics>;
