// Preloaded into each audsync run (node --import): samples the JS heap while the run works and, at
// exit, writes the peak RSS (getrusage maxrss, the same number /usr/bin/time -f %M reports), the
// heap high-water marks and the slowest SQL statements (DuckDB's run(), timed here so the product
// carries no tracing of its own) to the file named by AUDSYNC_BENCH_PROBE.
import { writeFileSync } from 'node:fs';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import { DuckDBConnection } from '@duckdb/node-api';

const out = process.env.AUDSYNC_BENCH_PROBE;
if (out) {
  const peak = { heapUsed: 0, heapTotal: 0, external: 0, arrayBuffers: 0 };
  let rssPeak = { bytes: 0, at: 0 };
  const sample = () => {
    const m = process.memoryUsage();
    for (const key of Object.keys(peak)) peak[key] = Math.max(peak[key], m[key]);
    if (m.rss > rssPeak.bytes) rssPeak = { bytes: m.rss, at: Math.round(performance.now()) };
  };
  setInterval(sample, 20).unref();
  // The live heap: used size right after each major (mark-compact) GC. What the sampled high-water
  // above adds on top is garbage V8 had not collected yet, which depends on its heuristics.
  let liveAfterGc = 0;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) liveAfterGc = Math.max(liveAfterGc, v8.getHeapStatistics().used_heap_size);
    }
  }).observe({ entryTypes: ['gc'] });

  const statements = [];
  const run = DuckDBConnection.prototype.run;
  DuckDBConnection.prototype.run = async function (sql, ...rest) {
    const started = performance.now();
    try {
      return await run.call(this, sql, ...rest);
    } finally {
      const ms = performance.now() - started;
      if (ms >= 50) statements.push({ ms: Math.round(ms), at: Math.round(started), sql: String(sql).replace(/\s+/g, ' ').slice(0, 160) });
    }
  };

  process.on('exit', () => {
    sample();
    const cpu = process.cpuUsage();
    writeFileSync(
      out,
      JSON.stringify({
        maxRssBytes: process.resourceUsage().maxRSS * 1024,
        heapUsedMaxBytes: peak.heapUsed,
        heapLiveAfterGcMaxBytes: liveAfterGc,
        heapTotalMaxBytes: peak.heapTotal,
        externalMaxBytes: peak.external,
        arrayBuffersMaxBytes: peak.arrayBuffers,
        // When the sampled RSS peaked (ms since start): compare with the statements' start and duration.
        rssPeakSampled: rssPeak,
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        uptimeMs: Math.round(performance.now()),
        statements,
      }),
    );
  });
}
