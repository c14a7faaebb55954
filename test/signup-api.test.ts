import assert from 'node:assert/strict';
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import request from 'supertest';
import type { AppContext } from '../src/context.ts';
import { createSequelize } from '../src/database/connect.ts';
import { createApp } from '../src/http/app.ts';
import { createHarness, type TestHarness } from './support/context.ts';
import { makeSubscriber } from './support/factories.ts';
import { proxyFor } from './support/tcp-proxy.ts';

let harness: TestHarness;
let server: Server;

before(async () => {
  harness = await createHarness({
    SIGNUP_RATE_LIMIT_PER_MINUTE: '0',
    SIGNUP_ALLOWED_ORIGINS: 'https://www.example.com, http://127.0.0.1:8080',
    SIGNUP_MAX_BODY_BYTES: '2048',
  });
  server = listen(harness.context);
});

after(async () => {
  await new Promise((resolve) => server.close(resolve));
  await harness.close();
});

beforeEach(async () => {
  await harness.context.database.sequelize.query('TRUNCATE email_deliveries, waitlist_subscribers, users RESTART IDENTITY CASCADE');
});

function listen(context: AppContext): Server {
  return createApp(context).listen(0, '127.0.0.1');
}

const api = () => request(server);

/** Posts with no Content-Type header at all, which supertest always adds for a body. */
function rawPost(body: string): Promise<{ status: number; body: string }> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const call = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/api/waitlist', headers: { 'Content-Length': Buffer.byteLength(body) } }, (response) => {
      let text = '';
      response.on('data', (chunk) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode!, body: text }));
    });
    call.on('error', reject);
    call.end(body);
  });
}
const HTML = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

async function storedRows() {
  const [rows] = await harness.context.database.sequelize.query('SELECT email, name, first_name, last_name, phone_number, source, created_at FROM waitlist_subscribers ORDER BY id');
  return rows as Array<Record<string, unknown>>;
}

describe('POST /api/waitlist with JSON', () => {
  test('creates subscriber with normalised fields', async () => {
    const response = await api()
      .post('/api/waitlist')
      .send({ email: '  Ada.Lovelace@BÜCHER.example ', name: ' Ada King Lovelace ', phone_number: '+44 20 7946 0958', source: 'Referral' });

    assert.equal(response.status, 201);
    assert.deepEqual(response.body, {
      subscriber: { email: 'Ada.Lovelace@xn--bcher-kva.example', name: 'Ada King Lovelace', phone_number: '+442079460958', source: 'referral' },
    });
    const [row] = await storedRows();
    assert.equal(row.email, 'Ada.Lovelace@xn--bcher-kva.example');
    assert.equal(row.first_name, 'Ada');
    assert.equal(row.last_name, 'King Lovelace');
    assert.equal(row.phone_number, '+442079460958');
    assert.equal((row.created_at as Date).getTime(), harness.clock.now.getTime());
  });

  test('defaults source and optional fields', async () => {
    const response = await api().post('/api/waitlist').send({ email: 'grace@example.com' });

    assert.equal(response.status, 201);
    assert.deepEqual(response.body.subscriber, { email: 'grace@example.com', name: null, phone_number: null, source: 'website' });
  });

  test('repeat signup answers 200 revealing nothing', async () => {
    await makeSubscriber(harness.context, { email: 'linus@example.com', name: 'Linus Torvalds', phone_number: '+358401234567', source: 'newsletter' });

    const response = await api().post('/api/waitlist').send({ email: '  LINUS@Example.COM ', name: 'Someone Else' });

    assert.equal(response.status, 200);
    assert.deepEqual(response.body, { subscriber: { email: 'LINUS@example.com', name: 'Someone Else', phone_number: null, source: 'website' } });
    assert.doesNotMatch(JSON.stringify(response.body), /Torvalds|358401234567|newsletter|"id"|created_at/);
    const rows = await storedRows();
    assert.equal(rows.length, 1);
    assert.equal(rows[0].name, 'Linus Torvalds', 'the first signup is never overwritten');
  });

  test('parallel identical signups create one row', async () => {
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, index) => api().post('/api/waitlist').send({ email: index % 2 ? 'Race@Example.com' : ' race@example.com ' })),
    );

    const statuses = responses.map((response) => response.status).sort();
    assert.equal(statuses.filter((status) => status === 201).length, 1, `statuses: ${statuses}`);
    assert.equal(statuses.filter((status) => status === 200).length, 19);
    assert.equal((await storedRows()).length, 1);
  });

  test('400 lists every invalid field', async () => {
    const response = await api()
      .post('/api/waitlist')
      .send({ email: 'ada@', name: `Ada\nBcc: eve@example.com`, phone_number: '0207 946 0958', source: 'tv' });

    assert.equal(response.status, 400);
    assert.equal(response.body.error.code, 'invalid_input');
    assert.match(response.body.error.message, /email, name, phone_number, source/);
    const fields = response.body.error.fields;
    assert.match(fields.email, /domain after the @/);
    assert.match(fields.name, /control characters/);
    assert.match(fields.phone_number, /such as \+44 20 7946 0958/);
    assert.match(fields.source, /website, social_media, email_campaign, referral, advertisement, influencer, newsletter, other/);
    assert.equal((await storedRows()).length, 0);
  });

  test('long values get field reasons', async () => {
    const response = await api().post('/api/waitlist').send({ email: `${'a'.repeat(70)}@example.com`, name: 'n'.repeat(256) });

    assert.equal(response.status, 400);
    assert.match(response.body.error.fields.email, /at most 64 bytes/);
    assert.match(response.body.error.fields.name, /at most 255 characters/);
  });

  test('non-object bodies get 400', async () => {
    for (const body of ['[]', '"ada@example.com"', '42', 'null', '{"email": ']) {
      const response = await api().post('/api/waitlist').set('Content-Type', 'application/json').send(body);
      assert.equal(response.status, 400, body);
      assert.match(response.body.error.code, /invalid_body|invalid_json/, body);
    }
  });

  test('wrong field types get 400', async () => {
    const response = await api().post('/api/waitlist').send({ email: ['a@example.com'], name: { first: 'Ada' }, phone_number: 442079460958, source: true });

    assert.equal(response.status, 400);
    assert.match(response.body.error.fields.email, /not a list/);
    assert.match(response.body.error.fields.name, /as text/);
    assert.match(response.body.error.fields.phone_number, /as text/);
    assert.match(response.body.error.fields.source, /as text/);
  });
});

describe('POST /api/waitlist limits', () => {
  test('413 over the body limit', async () => {
    const response = await api().post('/api/waitlist').send({ email: 'big@example.com', name: 'x'.repeat(3000) });

    assert.equal(response.status, 413);
    assert.equal(response.body.error.code, 'body_too_large');
    assert.match(response.body.error.message, /larger than 2048 bytes/);
    assert.equal((await storedRows()).length, 0);
  });

  test('415 for other content types', async () => {
    const cases: Array<[string, string]> = [
      ['text/plain', 'email=a@example.com'],
      ['multipart/form-data; boundary=x', '--x--'],
      ['application/xml', '<email/>'],
    ];
    for (const [type, body] of cases) {
      const response = await api().post('/api/waitlist').set('Content-Type', type).send(body);
      assert.equal(response.status, 415, type);
      assert.equal(response.body.error.code, 'unsupported_media_type');
      assert.match(response.body.error.message, /application\/json or as a plain HTML form/);
    }

    const untyped = await rawPost('{"email": "a@example.com"}');
    assert.equal(untyped.status, 415);
    assert.match(untyped.body, /not a body without a Content-Type/);
  });

  test('415 for charsets other than UTF-8', async () => {
    const response = await api().post('/api/waitlist').set('Content-Type', 'application/json; charset=iso-8859-1').send('{}');

    assert.equal(response.status, 415);
    assert.equal(response.body.error.code, 'unsupported_charset');
  });

  test('405 for other methods', async () => {
    const response = await api().get('/api/waitlist');

    assert.equal(response.status, 405);
    assert.equal(response.headers.allow, 'POST, OPTIONS');
  });

  test('429 after too many from one client', async () => {
    const limited = listen({ ...harness.context, config: { ...harness.config, signup: { ...harness.config.signup, rateLimitPerMinute: 3 } } });
    try {
      const statuses: number[] = [];
      for (let attempt = 0; attempt < 5; attempt++) {
        statuses.push((await request(limited).post('/api/waitlist').send({ email: `rate${attempt}@example.com` })).status);
      }
      assert.deepEqual(statuses, [201, 201, 201, 429, 429]);

      const limitedResponse = await request(limited).post('/api/waitlist').send({ email: 'late@example.com' });
      assert.equal(limitedResponse.body.error.code, 'rate_limited');
      assert.ok(Number(limitedResponse.headers['retry-after']) > 0, 'Retry-After gives the seconds to wait');
      assert.equal((await storedRows()).length, 3);
    } finally {
      await new Promise((resolve) => limited.close(resolve));
    }
  });
});

describe('rate limit configuration', () => {
  test('permissive trust proxy warns in the log', async () => {
    const context = { ...harness.context, config: { ...harness.config, signup: { ...harness.config.signup, rateLimitPerMinute: 10 }, session: { ...harness.config.session, trustProxy: true } } };
    const proxied = listen(context);
    try {
      const response = await request(proxied).post('/api/waitlist').set('X-Forwarded-For', '203.0.113.9').send({ email: 'proxied@example.com' });
      assert.equal(response.status, 201);
      const warning = harness.logs.find((line) => JSON.stringify(line).includes('ERR_ERL_PERMISSIVE_TRUST_PROXY'));
      assert.ok(warning, 'the rate limiter reports a trust proxy setting that clients can bypass');
      assert.equal(warning.level, 'ERROR');
    } finally {
      await new Promise((resolve) => proxied.close(resolve));
    }
  });
});

describe('POST /api/waitlist without a database', () => {
  test('answers 503 while the database is unreachable', async () => {
    const proxy = await proxyFor(harness.database.url);
    const sequelize = createSequelize(proxy.proxiedUrl(harness.database.url), 2);
    const proxied = listen({ ...harness.context, database: { ...harness.context.database, sequelize } });
    const signUp = (email: string) => request(proxied).post('/api/waitlist').send({ email });

    try {
      assert.equal((await signUp('before@example.com')).status, 201);
      await proxy.cut();

      // The first request gets the pooled connection that the cut ended, and the second must open a new one.
      for (const email of ['during@example.com', 'again@example.com']) {
        const response = await signUp(email);
        assert.equal(response.status, 503, `${email}: ${JSON.stringify(response.body)}`);
        assert.equal(response.body.error.code, 'service_unavailable');
      }

      await proxy.restore();
      assert.equal((await signUp('after@example.com')).status, 201);
    } finally {
      await new Promise((resolve) => proxied.close(resolve));
      await sequelize.close();
      await proxy.stop();
    }
  });
});

describe('POST /api/waitlist from forms', () => {
  test('browser form post redirects to thank-you page', async () => {
    const response = await api()
      .post('/api/waitlist')
      .set('Accept', HTML)
      .set('Origin', 'https://landing.example.org')
      .type('form')
      .send({ email: 'form@example.com', name: 'Form Person', source: 'advertisement' });

    assert.equal(response.status, 303);
    assert.equal(response.headers.location, '/join/thanks');
    const [row] = await storedRows();
    assert.equal(row.email, 'form@example.com');
    assert.equal(row.source, 'advertisement');
  });

  test('repeat form post redirects the same way', async () => {
    await makeSubscriber(harness.context, { email: 'again@example.com' });

    const response = await api().post('/api/waitlist').set('Accept', HTML).type('form').send({ email: 'AGAIN@example.com' });

    assert.equal(response.status, 303);
    assert.equal(response.headers.location, '/join/thanks');
  });

  test('invalid form post shows errors and keeps values', async () => {
    const response = await api()
      .post('/api/waitlist')
      .set('Accept', HTML)
      .type('form')
      .send({ email: 'ada@@example.com', name: '<b>Ada</b>', phone_number: '12345' });

    assert.equal(response.status, 400);
    assert.match(response.headers['content-type'], /text\/html/);
    assert.match(response.text, /<title>Error: Join the waitlist for Acme Beta<\/title>/);
    assert.match(response.text, /aria-invalid="true" aria-describedby="email-error"/);
    assert.match(response.text, /value="ada@@example.com"/);
    assert.match(response.text, /value="&lt;b&gt;Ada&lt;\/b&gt;"/, 'the typed name comes back, escaped');
    assert.match(response.text, /id="phone_number-error">&#34;12345&#34; is not a phone number/);
    assert.equal((await storedRows()).length, 0);
  });

  test('repeated form field is rejected', async () => {
    const response = await api().post('/api/waitlist').type('form').send('email=a@example.com&email=b@example.com');

    assert.equal(response.status, 400);
    assert.match(response.body.error.fields.email, /not a list/);
  });

  test('form post without Accept html gets JSON', async () => {
    const response = await api().post('/api/waitlist').type('form').send({ email: 'script@example.com' });

    assert.equal(response.status, 201);
    assert.equal(response.body.subscriber.email, 'script@example.com');
  });

  test('honeypot drops the signup silently', async () => {
    const json = await api().post('/api/waitlist').send({ email: 'bot@example.com', url: 'http://spam.example' });
    const form = await api().post('/api/waitlist').set('Accept', HTML).type('form').send({ email: 'bot2@example.com', url: 'x' });

    assert.equal(json.status, 201);
    assert.equal(json.body.subscriber.email, 'bot@example.com');
    assert.equal(form.status, 303);
    assert.equal((await storedRows()).length, 0);
  });

  test('thank-you URL comes from the setting', async () => {
    const context = { ...harness.context, config: { ...harness.config, signup: { ...harness.config.signup, thankYouUrl: 'https://www.example.com/thanks' } } };
    const custom = listen(context);
    try {
      const response = await request(custom).post('/api/waitlist').set('Accept', HTML).type('form').send({ email: 'elsewhere@example.com' });
      assert.equal(response.status, 303);
      assert.equal(response.headers.location, 'https://www.example.com/thanks');
      assert.match(response.headers['content-security-policy'], /form-action 'self' https:\/\/www\.example\.com/);
    } finally {
      await new Promise((resolve) => custom.close(resolve));
    }
  });
});

describe('signup CORS and headers', () => {
  test('preflight from allowed origin', async () => {
    const response = await api()
      .options('/api/waitlist')
      .set('Origin', 'https://www.example.com')
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'content-type');

    assert.equal(response.status, 204);
    assert.equal(response.headers['access-control-allow-origin'], 'https://www.example.com');
    assert.match(response.headers['access-control-allow-methods'], /POST/);
    assert.match(response.headers['access-control-allow-headers'], /Content-Type/i);
    assert.match(response.headers.vary, /Origin/);
  });

  test('other origins get no CORS grant', async () => {
    const preflight = await api().options('/api/waitlist').set('Origin', 'https://evil.example').set('Access-Control-Request-Method', 'POST');
    const post = await api().post('/api/waitlist').set('Origin', 'https://evil.example').send({ email: 'cors@example.com' });

    assert.equal(preflight.headers['access-control-allow-origin'], undefined);
    assert.equal(post.headers['access-control-allow-origin'], undefined);
  });

  test('allowed origin can read the answer', async () => {
    const response = await api().post('/api/waitlist').set('Origin', 'http://127.0.0.1:8080').send({ email: 'cors@example.com' });

    assert.equal(response.status, 201);
    assert.equal(response.headers['access-control-allow-origin'], 'http://127.0.0.1:8080');
  });

  test('security headers on every signup response', async () => {
    const responses = [
      await api().post('/api/waitlist').send({ email: 'headers@example.com' }),
      await api().post('/api/waitlist').send({ email: 'bad' }),
      await api().post('/api/waitlist').set('Content-Type', 'text/plain').send('x'),
      await api().get('/api/waitlist'),
      await api().get('/join'),
      await api().get('/join/thanks'),
    ];
    for (const response of responses) {
      const where = `${response.status} ${response.request.url}`;
      assert.equal(response.headers['x-content-type-options'], 'nosniff', where);
      assert.match(response.headers['content-security-policy'], /default-src 'none'/, where);
      assert.equal(response.headers['x-frame-options'], 'SAMEORIGIN', where);
      assert.equal(response.headers['referrer-policy'], 'no-referrer', where);
      assert.equal(response.headers['x-powered-by'], undefined, where);
    }
  });

  test('health checks keep their own headers', async () => {
    const response = await api().get('/healthz');

    assert.equal(response.status, 200);
    assert.equal(response.headers['content-security-policy'], undefined, 'helmet covers the signup paths only');
  });
});

describe('GET /join', () => {
  test('renders accessible form', async () => {
    const response = await api().get('/join');

    assert.equal(response.status, 200);
    assert.match(response.text, /<html lang="en">/);
    assert.match(response.text, /<form method="post" action="\/api\/waitlist" novalidate>/);
    for (const field of ['email', 'name', 'phone_number', 'source']) assert.match(response.text, new RegExp(`<label for="${field}">`), field);
    assert.match(response.text, /autocomplete="email"/);
    assert.match(response.text, /<option value="social_media">Social media<\/option>/);
    assert.match(response.text, /name="url" type="text" tabindex="-1"/);
  });

  test('serves its stylesheet', async () => {
    const response = await api().get('/join/join.css');

    assert.equal(response.status, 200);
    assert.match(response.headers['content-type'], /text\/css/);
  });
});
