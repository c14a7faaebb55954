import pg from 'pg';

const FIRST_NAMES = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken', 'Margaret', 'Dennis', 'Radia', 'Tim', 'Katherine', 'Linus', 'Hedy', 'John'];
const LAST_NAMES = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Allen', 'Thompson', 'Hamilton', 'Ritchie', 'Perlman', 'Berners', 'Johnson', 'Torvalds', 'Lamarr', 'McCarthy'];

/**
 * Adds `count` subscribers in set-based INSERT … SELECT statements of 100,000 rows. Names come from small lists,
 * so a name search matches many rows. Sign-ups spread over the past year, 60% are processed with an accepted
 * welcome email, and 1% gave up after failures.
 */
export async function loadSubscribers(url: string, count: number, onProgress: (done: number) => void = () => undefined): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();

  try {
    for (let start = 1; start <= count; start += 100_000) {
      const end = Math.min(count, start + 99_999);
      await client.query(INSERT_SUBSCRIBERS, [start, end, FIRST_NAMES, LAST_NAMES]);
      onProgress(end);
    }
    await client.query(INSERT_DELIVERIES);
    await client.query('ANALYZE waitlist_subscribers');
    await client.query('ANALYZE email_deliveries');
  } finally {
    await client.end();
  }
}

const INSERT_SUBSCRIBERS = `
  INSERT INTO waitlist_subscribers (email, name, first_name, last_name, source, is_processed, processed_at,
                                    attempts, last_error_code, gave_up_at, created_at, updated_at)
  SELECT lower(first) || '.' || lower(last) || n || '@example.' || (ARRAY['com', 'org', 'net'])[1 + n % 3],
         first || ' ' || last, first, last,
         (ARRAY['website', 'social_media', 'email_campaign', 'referral', 'advertisement', 'influencer', 'newsletter', 'other'])[1 + n % 8],
         n % 10 < 6,
         CASE WHEN n % 10 < 6 THEN joined + interval '1 hour' END,
         CASE WHEN n % 100 = 99 THEN 5 ELSE 0 END,
         CASE WHEN n % 100 = 99 THEN 'smtp_rejected' END,
         CASE WHEN n % 100 = 99 THEN joined + interval '2 hours' END,
         joined, joined
  FROM (
    SELECT n, $3::text[] AS firsts, $4::text[] AS lasts,
           now() - interval '365 days' + (n % 1000000) * interval '31.5 seconds' AS joined
    FROM generate_series($1::integer, $2::integer) AS n
  ) AS numbered,
  LATERAL (SELECT firsts[1 + n % array_length(firsts, 1)] AS first, lasts[1 + (n / 7) % array_length(lasts, 1)] AS last) AS names`;

const INSERT_DELIVERIES = `
  INSERT INTO email_deliveries (recipient, kind, subscriber_id, status, message_id, smtp_response, created_at)
  SELECT email, 'welcome', id, 'accepted', '<' || id || '@bench.example>', '250 OK', processed_at
  FROM waitlist_subscribers WHERE is_processed`;
