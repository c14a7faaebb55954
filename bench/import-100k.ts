// Imports a generated CSV file of 100,000 rows (by default) into a fresh database and prints the time,
// the counts and the peak memory, to check that the importer streams. Usage:
//   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node --import tsx bench/import-100k.ts [rows]
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { importSubscribers } from '../src/subscriber-import.ts';
import { createHarness } from '../test/support/context.ts';

const rows = Number(process.argv[2] ?? 100_000);
const folder = mkdtempSync(path.join(tmpdir(), 'waitlist-bench-import-'));
const file = path.join(folder, 'subscribers.csv');

async function writeFile() {
  const output = createWriteStream(file);
  const sources = ['website', 'Referral', 'social media', 'newsletter', ''];
  output.write('email,name,phone_number,source,created_at,signup_page\n');
  for (let index = 0; index < rows; index++) {
    // Every 50th row repeats an earlier address in other case, every 100th has a bad phone number.
    const email = index % 50 === 49 ? `Person${index - 1}@Example.com` : `person${index}@example.com`;
    let phone = index % 3 === 0 ? '+44 20 7946 0958' : '';
    if (index % 100 === 99) phone = '12345';
    const day = new Date(Date.UTC(2024, 0, 1) + index * 60_000).toISOString();
    const line = `${email},"Person ${index} Example",${phone},${sources[index % sources.length]},${day},/landing\n`;
    if (!output.write(line)) await once(output, 'drain');
  }
  output.end();
  await once(output, 'close');
}

await writeFile();
const harness = await createHarness({ LOG_LEVEL: 'warn' });

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
const baselineRss = process.memoryUsage().rss;
const started = performance.now();

const summary = await importSubscribers(harness.context, createReadStream(file));

const seconds = (performance.now() - started) / 1000;
clearInterval(sampler);
const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

process.stdout.write(
  [
    `file: ${rows} rows, ${mib(statSync(file).size)} MiB`,
    `counts: ${summary.added} added, ${summary.duplicates} duplicates, ${summary.invalid} invalid`,
    `time: ${seconds.toFixed(1)} s (${Math.round(summary.rows / seconds)} rows/s)`,
    `memory: rss ${mib(baselineRss)} MiB before, ${mib(peakRss)} MiB peak during the import`,
  ].join('\n') + '\n',
);

await harness.close();
rmSync(folder, { recursive: true, force: true });
