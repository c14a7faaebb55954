import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);

const PROCESSOR_KEYS = ['throughput_per_s', 'hashing_limit_per_s', 'efficiency', 'naive_per_s', 'speedup_vs_naive', 'p50_ms', 'p95_ms', 'peak_rss_mb'];

test('bench:processor prints its JSON figures', { timeout: 180_000 }, async () => {
  // A tiny backlog at the lowest hash cost: this checks that the script works, not how fast anything is.
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'bench/processor.ts', '--count', '6', '--min-hash-cost', '--json'], {
    env: process.env,
    timeout: 170_000,
  });

  const figures = JSON.parse(stdout.trim()) as Record<string, number>;
  for (const key of PROCESSOR_KEYS) {
    assert.equal(typeof figures[key], 'number', `${key} is a number`);
    assert.ok(figures[key] > 0, `${key} is above zero`);
  }
  assert.equal(figures.count, 6);
  // The printed rates are rounded to 0.1, so the ratio of the printed rates is close to, not equal to, the efficiency.
  const ratio = figures.throughput_per_s / figures.hashing_limit_per_s;
  assert.ok(Math.abs(figures.efficiency - ratio) <= 0.01 * ratio + 0.001, `efficiency ${figures.efficiency} is throughput over hashing limit (${ratio})`);
});

const API_KEYS = ['requests_per_s', 'p50_ms', 'p99_ms', 'errors', 'baseline_requests_per_s', 'baseline_p99_ms', 'ratio_to_baseline'];

test('bench:api prints its JSON figures', { timeout: 180_000 }, async () => {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'bench/api.ts', '--duration', '1', '--connections', '2', '--json'], {
    env: process.env,
    timeout: 170_000,
  });

  const figures = JSON.parse(stdout.trim()) as Record<string, number>;
  for (const key of API_KEYS) assert.equal(typeof figures[key], 'number', `${key} is a number`);
  assert.ok(figures.requests_per_s > 0, 'the service handled signups');
  assert.ok(figures.baseline_requests_per_s > 0, 'the baseline handled signups');
  assert.equal(figures.errors, 0);
});

const ADMIN_PAGES = ['first_page', 'filtered', 'search_email', 'search_name', 'dashboard', 'page_1000'];

test('bench:admin prints its JSON figures', { timeout: 240_000 }, async () => {
  // A thousand subscribers and two samples a page: this checks that every page responds, not how fast.
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'bench/admin.ts', '--count', '1000', '--samples', '2', '--json'], {
    env: process.env,
    timeout: 230_000,
  });

  const figures = JSON.parse(stdout.trim()) as Record<string, { p50_ms: number; p95_ms: number } | number | boolean>;
  for (const page of ADMIN_PAGES) {
    const timing = figures[page] as { p50_ms: number; p95_ms: number };
    assert.equal(typeof timing?.p95_ms, 'number', `${page} has a 95th percentile`);
    assert.ok(timing.p95_ms >= timing.p50_ms, `${page}: p95 is not below p50`);
  }
  assert.equal(figures.subscribers, 1000);
  assert.equal(typeof figures.target_met, 'boolean');
});
