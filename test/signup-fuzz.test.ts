import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import request from 'supertest';
import { createApp } from '../src/http/app.ts';
import { SUBSCRIBER_SOURCES } from '../src/sources.ts';
import { parseSubscriberInput } from '../src/subscriber-input.ts';
import { createHarness, type TestHarness } from './support/context.ts';

// Property-based tests: whatever a client sends, the API responds with a 2xx or 4xx status and stores
// only rows that follow the input rules.

let harness: TestHarness;
let server: Server;

before(async () => {
  harness = await createHarness({ SIGNUP_RATE_LIMIT_PER_MINUTE: '0', SIGNUP_MAX_BODY_BYTES: '4096' });
  server = createApp(harness.context).listen(0, '127.0.0.1');
});

after(async () => {
  await new Promise((resolve) => server.close(resolve));
  await harness.close();
});

const RUNS = { numRuns: 150 };

const asText = (value: unknown) => (typeof value === 'string' ? value : (JSON.stringify(value) ?? ''));
const CLIENT_STATUSES = new Set([200, 201, 303, 400, 413, 415]);

function assertClientStatus(response: request.Response, sent: unknown) {
  assert.ok(response.status < 500, `status ${response.status} for ${JSON.stringify(sent)?.slice(0, 300)}: ${response.text.slice(0, 300)}`);
  assert.ok(CLIENT_STATUSES.has(response.status), `unexpected status ${response.status}`);
}

// Addresses near the valid ones: real addresses with padding, case changes, Unicode domains and stray characters.
const emailLike = fc.oneof(
  fc.emailAddress(),
  fc.tuple(fc.emailAddress(), fc.constantFrom(' ', '\t', '\u00a0', '', '\n')).map(([email, pad]) => `${pad}${email.toUpperCase()}${pad}`),
  fc.tuple(fc.stringMatching(/^[a-z]{1,8}$/), fc.constantFrom('bücher', 'münchen', '日本', 'пример', 'xn--', '-x', 'a_b')).map(([local, domain]) => `${local}@${domain}.example`),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
);

const fieldValue = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.object({ maxDepth: 3 }),
);

const phoneLike = fc.oneof(
  fc.constantFrom('+44 20 7946 0958', '+1 201 555 0123', '020 7946 0958', '+358401234567', '+', '+0', '+99999999999999999'),
  fc.stringMatching(/^\+?[0-9 ()-]{0,25}$/),
  fieldValue,
);

const sourceLike = fc.oneof(fc.constantFrom(...SUBSCRIBER_SOURCES, 'Social media', 'EMAIL-CAMPAIGN', '', 'tv', '__proto__'), fieldValue);

const signupBody = fc.record(
  { email: fc.oneof(emailLike, fieldValue), name: fc.oneof(fc.string({ unit: 'grapheme', maxLength: 300 }), fieldValue), phone_number: phoneLike, source: sourceLike, url: fc.oneof(fc.constant(''), fieldValue) },
  { requiredKeys: [] },
);

describe('signup API under arbitrary input', () => {
  test('JSON field values never cause 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(signupBody, async (body) => {
        const response = await request(server).post('/api/waitlist').send(body);
        assertClientStatus(response, body);
      }),
      RUNS,
    );
  });

  test('plausible signups store or refuse cleanly', async () => {
    const plausible = fc.record({
      email: emailLike,
      name: fc.option(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 60 }), fc.string({ unit: 'binary', maxLength: 60 }), fc.constantFrom('Ada\u0000', 'Eve\r\nBcc: x', 'Tab\there', 'x'.repeat(256))), { nil: undefined }),
      phone_number: fc.option(fc.constantFrom('+44 20 7946 0958', '+1 201 555 0123', '+358 40 1234567', ''), { nil: undefined }),
      source: fc.option(fc.constantFrom(...SUBSCRIBER_SOURCES, 'Social media'), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(plausible, async (body) => {
        const response = await request(server).post('/api/waitlist').send(body);
        assertClientStatus(response, body);
        if (response.status === 201 || response.status === 200) assert.deepEqual(parseSubscriberInput(body), { ok: true, value: response.body.subscriber });
      }),
      RUNS,
    );
  });

  test('any JSON document never causes 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 6 }), async (document) => {
        const response = await request(server).post('/api/waitlist').set('Content-Type', 'application/json').send(JSON.stringify(document));
        assertClientStatus(response, document);
      }),
      RUNS,
    );
  });

  test('form bodies never cause 5xx', async () => {
    const formBody = fc.oneof(
      signupBody.map((body) => new URLSearchParams(Object.entries(body).map(([key, value]) => [key, asText(value)])).toString()),
      fc.string({ unit: 'binary', maxLength: 500 }),
      fc.string({ maxLength: 200 }).map((text) => `email=${text}&email=${text}&name[x]=${text}&%=%%`),
    );
    await fc.assert(
      fc.asyncProperty(formBody, fc.boolean(), async (body, browser) => {
        const call = request(server).post('/api/waitlist').type('form');
        const response = await (browser ? call.set('Accept', 'text/html') : call).send(body);
        assertClientStatus(response, body);
      }),
      RUNS,
    );
  });

  test('raw bytes and content types never cause 5xx', async () => {
    const contentType = fc.oneof(
      fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'text/plain', 'application/json; charset=utf-32', ''),
      fc.string({ maxLength: 60 }).filter((text) => /^[\x20-\x7e]*$/.test(text)),
    );
    await fc.assert(
      fc.asyncProperty(contentType, fc.uint8Array({ maxLength: 600 }), async (type, bytes) => {
        const response = await request(server).post('/api/waitlist').set('Content-Type', type).send(Buffer.from(bytes));
        assertClientStatus(response, { type, bytes: bytes.length });
      }),
      RUNS,
    );
  });

  test('empty and huge bodies get 4xx', async () => {
    for (const size of [0, 1, 4097, 64 * 1024, 2 * 1024 * 1024]) {
      const body = JSON.stringify({ email: 'huge@example.com', name: 'x'.repeat(size) });
      const response = await request(server).post('/api/waitlist').set('Content-Type', 'application/json').send(size === 0 ? '' : body);
      assertClientStatus(response, { size });
      if (size > 4096) assert.equal(response.status, 413, `size ${size}`);
    }
  });

  test('stored rows all follow the rules', async () => {
    const [rows] = await harness.context.database.sequelize.query('SELECT email, name, phone_number, source FROM waitlist_subscribers');
    assert.ok(rows.length > 10, `the properties above stored some rows (${rows.length})`);

    for (const row of rows as Array<Record<string, string | null>>) {
      const again = parseSubscriberInput(row);
      assert.ok(again.ok, `stored row breaks the rules: ${JSON.stringify(row)} ${JSON.stringify(!again.ok && again.errors)}`);
      assert.deepEqual(again.value, row, 'a stored row is already in normal form');
    }
  });
});
