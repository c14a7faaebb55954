import pg from 'pg';

/**
 * Empties the processing tables and adds `count` unprocessed subscribers in one set-based INSERT.
 * Every 50th address reuses the previous one's local part at another domain, so that some usernames collide
 * and take the numbered-username path, as they do on real waitlists.
 */
export async function seedSubscribers(url: string, count: number): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();

  try {
    await client.query('TRUNCATE email_deliveries, waitlist_subscribers, users, processor_runs RESTART IDENTITY CASCADE');
    await client.query(
      `INSERT INTO waitlist_subscribers (email, name, first_name, last_name, source, created_at, updated_at)
       SELECT CASE WHEN n % 50 = 0 THEN 'person' || (n - 1) || '@example.org' ELSE 'person' || n || '@example.com' END,
              'Person ' || n, 'Person', n::text,
              (ARRAY['website', 'social_media', 'referral', 'newsletter'])[1 + n % 4],
              timestamptz '2026-01-01' + n * interval '1 second', now()
       FROM generate_series(1, $1::integer) AS n`,
      [count],
    );
    await client.query('ANALYZE waitlist_subscribers');
  } finally {
    await client.end();
  }
}

/** Counts subscribers still waiting to be processed, and those processed. */
export async function countSubscribers(url: string): Promise<{ waiting: number; processed: number }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();

  try {
    const { rows } = await client.query<{ waiting: string; processed: string }>(
      'SELECT count(*) FILTER (WHERE NOT is_processed) AS waiting, count(*) FILTER (WHERE is_processed) AS processed FROM waitlist_subscribers',
    );
    return { waiting: Number(rows[0].waiting), processed: Number(rows[0].processed) };
  } finally {
    await client.end();
  }
}
