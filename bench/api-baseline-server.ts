// The signup benchmark's baseline: the least an Express handler can do for a signup, which is to insert the row
// with pg. It parses JSON and responds 201 or 200 as the service does, but validates nothing and logs nothing.
import express from 'express';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DATABASE_POOL_MAX ?? 10) });
const app = express();
app.disable('x-powered-by');

app.get('/healthz', (_request, response) => {
  response.json({ status: 'ok' });
});

app.post('/api/waitlist', express.json(), async (request, response) => {
  try {
    const email = String(request.body?.email ?? '');
    const { rowCount } = await pool.query(
      `INSERT INTO waitlist_subscribers (email, name, first_name, last_name, phone_number, source, created_at, updated_at)
       VALUES ($1, $2, $3, NULL, NULL, 'website', now(), now())
       ON CONFLICT ((lower(email))) DO NOTHING`,
      [email, request.body?.name ?? null, request.body?.name ?? ''],
    );
    response.status(rowCount ? 201 : 200).json({ subscriber: { email } });
  } catch (error) {
    response.status(500).json({ error: (error as Error).message });
  }
});

const server = app.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => {
  server.close();
  void pool.end();
});
