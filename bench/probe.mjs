// Preloaded into each audsync run (node --import): samples the JS heap while the run works and, at
// exit, writes the peak RSS (getrusage maxrss, the same number /usr/bin/time -f %M reports), the
// heap high-water marks and the slowest SQL statements (DuckDB's run(), timed here so the product
// carries no tracing of its own) to the file named by AUDSYNC_BENCH_PROBE.
import { writeFileSync } from 'node:fs';
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
