import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../src/logger.ts';

let folder: string;

before(() => {
  folder = mkdtempSync(path.join(tmpdir(), 'waitlist-logger-'));
});

after(() => {
  rmSync(folder, { recursive: true, force: true });
});

/** Creates a console stand-in that keeps what it receives; `isTTY` makes it look like a terminal. */
function consoleSink(isTTY = false) {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { stream: Object.assign(stream, { isTTY }), text: () => chunks.join('') };
}

function logSettings(file?: string, maxSizeMb = 10, maxFiles = 5) {
  return { file, level: 'info' as const, maxSizeMb, maxFiles };
}

async function waitFor(check: () => boolean, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('logger console', () => {
  test('production pipe gets JSON lines', () => {
    const sink = consoleSink();
    createLogger({ production: true, log: logSettings() }, sink.stream).info({ subscriberId: '7' }, 'account created');

    const line = JSON.parse(sink.text().trim());
    assert.equal(line.level, 'INFO');
    assert.equal(line.msg, 'account created');
    assert.equal(line.subscriberId, '7');
  });

  test('production terminal gets readable lines', () => {
    const sink = consoleSink(true);
    createLogger({ production: true, log: logSettings() }, sink.stream).info('account created');

    assert.match(sink.text(), /INFO.*account created/);
    assert.throws(() => JSON.parse(sink.text().trim()));
  });

  test('development gets readable lines', () => {
    const sink = consoleSink();
    createLogger({ production: false, log: logSettings() }, sink.stream).warn('slow SMTP server');

    assert.match(sink.text(), /WARN.*slow SMTP server/);
  });
});

describe('logger file', () => {
  test('rotates by size and keeps a bounded number', async () => {
    const file = path.join(folder, 'rotating', 'waitlist.log');
    const logger = createLogger({ production: true, log: logSettings(file, 1, 2) }, consoleSink().stream);

    // About 4.5 MB of lines: four rotations of a 1 MB file, of which two rotated files stay.
    const filler = 'x'.repeat(1000);
    for (let index = 0; index < 4500; index++) logger.info({ index, filler }, 'filler line');
    logger.info('last line');
    await waitFor(() => existsSync(file) && readFileSync(file, 'utf8').includes('"last line"'), 20_000, 'the last line in the current file');

    assert.deepEqual(readdirSync(path.dirname(file)).sort(), ['waitlist.log', 'waitlist.log.1', 'waitlist.log.2']);
    for (const name of readdirSync(path.dirname(file))) {
      const size = statSync(path.join(path.dirname(file), name)).size;
      assert.ok(size < 1024 * 1024 + 2000, `${name} has ${size} bytes, about 1 MB at most`);
    }

    const rotated = readFileSync(`${file}.1`, 'utf8').trim().split('\n');
    assert.ok(rotated.every((line) => JSON.parse(line).msg === 'filler line'), 'rotated files hold whole JSON lines');
    const indexes = rotated.map((line) => JSON.parse(line).index as number);
    assert.ok(indexes.every((index, position) => position === 0 || index === indexes[position - 1] + 1), 'no line is lost within a file');
  });

  test('unwritable file leaves the console working', async () => {
    const file = path.join(folder, 'is-a-folder');
    mkdirSync(file);
    const sink = consoleSink();
    const errors: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string) => errors.push(String(chunk)) > 0) as typeof process.stderr.write;

    try {
      const logger = createLogger({ production: true, log: logSettings(file) }, sink.stream);
      logger.info('first');
      await waitFor(() => errors.length > 0, 5000, 'the report on stderr');
      logger.info('second');
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      process.stderr.write = write;
    }

    assert.equal(errors.length, 1, errors.join(''));
    assert.match(errors[0], /the log file .*is-a-folder cannot be written .*logging continues on the console only/);
    assert.match(sink.text(), /"msg":"second"/);
  });
});
