import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import type { Sequelize } from 'sequelize';
import { QueryTypes } from 'sequelize';
import { verifyPassword } from '../../src/passwords.ts';
import { artifactPath, findSecrets, saveDatabaseDump } from './artifacts.ts';
import type { TestHarness } from './context.ts';
import type { TestSmtpServer } from './smtp.ts';

/** Options for `checkGuarantees`. */
export interface GuaranteeOptions {
  /** Allows subscribers that are neither processed nor given up, for a test that stops before the backlog is done. */
  allowPending?: boolean;
  /** Ids of users that existed before processing: subscribers linked to them get no email. */
  existingUserIds?: Set<string>;
}

/** What the database and the received mail show after a test, sorted by guarantee; every list is empty when all hold. */
export interface GuaranteeReport {
  /** Subscribers processed, linked to an existing user, given up, or still waiting. */
  counts: { created: number; linked: number; gaveUp: number; pending: number };
  /** Processed subscribers without their user, or whose user has another address. */
  markWithoutAccount: string[];
  /** Users whose address belongs to a subscriber not marked processed, or that no subscriber points at. */
  accountWithoutMark: string[];
  /** Subscribers neither processed nor given up, when that is not allowed. */
  unfinished: string[];
  /** Subscribers that gave up without a stored reason, or processed ones still carrying an error or retry time. */
  inconsistentState: string[];
  /** Processed subscribers without exactly one accepted welcome delivery, or others with one. */
  deliveryRecords: string[];
  /** Created accounts whose address received no welcome email, or whose last email's password does not work. */
  missingOrWrongEmail: string[];
  /** Addresses that received a welcome email but have no account (or a linked one, which is never emailed). */
  emailWithoutAccount: string[];
  /**
   * Addresses that received more than one welcome email, with the count. The extra ones are only allowed in
   * the accepted-then-not-committed window, and then their passwords must not work.
   */
  repeatedEmails: Map<string, number>;
  /** Repeated emails whose password also works, which would mean two live accounts or a reused password. */
  repeatedEmailsWithWorkingPassword: string[];
  /** Usernames or addresses held by more than one user. */
  duplicateUsers: string[];
  /** Subscribers whose row lock some open transaction still holds. */
  stillClaimed: string[];
}

interface SubscriberRow {
  id: string;
  email: string;
  is_processed: boolean;
  processed_at: Date | null;
  user_id: string | null;
  last_error_code: string | null;
  next_attempt_at: Date | null;
  gave_up_at: Date | null;
  user_email: string | null;
  username: string | null;
  password_hash: string | null;
  accepted: string;
}

/** Reads every subscriber, user, delivery and received email and sorts what breaks a guarantee into the report. */
export async function checkGuarantees(sequelize: Sequelize, smtp: TestSmtpServer, options: GuaranteeOptions = {}): Promise<GuaranteeReport> {
  const existing = options.existingUserIds ?? new Set<string>();
  const subscribers = await sequelize.query<SubscriberRow>(
    `SELECT s.id, s.email, s.is_processed, s.processed_at, s.user_id, s.last_error_code, s.next_attempt_at, s.gave_up_at,
            u.email AS user_email, u.username, u.password_hash,
            (SELECT count(*) FROM email_deliveries d WHERE d.subscriber_id = s.id AND d.kind = 'welcome' AND d.status = 'accepted') AS accepted
     FROM waitlist_subscribers s LEFT JOIN users u ON u.id = s.user_id
     ORDER BY s.id`,
    { type: QueryTypes.SELECT },
  );

  const report: GuaranteeReport = {
    counts: { created: 0, linked: 0, gaveUp: 0, pending: 0 },
    markWithoutAccount: [],
    accountWithoutMark: await accountsWithoutMark(sequelize),
    unfinished: [],
    inconsistentState: [],
    deliveryRecords: [],
    missingOrWrongEmail: [],
    emailWithoutAccount: [],
    repeatedEmails: new Map(),
    repeatedEmailsWithWorkingPassword: [],
    duplicateUsers: await duplicateUsers(sequelize),
    stillClaimed: await stillClaimed(sequelize),
  };

  for (const subscriber of subscribers) {
    await checkSubscriber(subscriber, smtp, existing, options, report);
  }
  return report;
}

async function checkSubscriber(subscriber: SubscriberRow, smtp: TestSmtpServer, existing: Set<string>, options: GuaranteeOptions, report: GuaranteeReport) {
  const label = `subscriber ${subscriber.id} <${subscriber.email}>`;
  const emails = smtp.messagesTo(subscriber.email);
  const linked = subscriber.user_id !== null && existing.has(subscriber.user_id);

  if (!subscriber.is_processed) {
    if (subscriber.gave_up_at) report.counts.gaveUp++;
    else report.counts.pending++;
    if (subscriber.gave_up_at && !subscriber.last_error_code) report.inconsistentState.push(`${label} gave up without a reason`);
    if (!subscriber.gave_up_at && !options.allowPending) report.unfinished.push(label);
    if (Number(subscriber.accepted) > 0) report.deliveryRecords.push(`${label} is not processed but has an accepted delivery`);
    if (emails.length > 0) report.emailWithoutAccount.push(`${label} received ${emails.length} email(s) but has no account`);
    return;
  }

  if (!subscriber.user_id || !subscriber.user_email || subscriber.user_email.toLowerCase() !== subscriber.email.toLowerCase()) {
    report.markWithoutAccount.push(label);
    return;
  }
  if (!subscriber.processed_at || subscriber.last_error_code || subscriber.next_attempt_at || subscriber.gave_up_at) {
    report.inconsistentState.push(`${label} is processed but keeps processing state (error ${subscriber.last_error_code})`);
  }

  if (linked) {
    report.counts.linked++;
    if (Number(subscriber.accepted) !== 0) report.deliveryRecords.push(`${label} was linked but has ${subscriber.accepted} accepted deliveries`);
    if (emails.length > 0) report.emailWithoutAccount.push(`${label} was linked to an existing account but received ${emails.length} email(s)`);
    return;
  }

  report.counts.created++;
  if (Number(subscriber.accepted) !== 1) report.deliveryRecords.push(`${label} has ${subscriber.accepted} accepted deliveries`);
  await checkWelcomeEmails(label, subscriber, emails, report);
}

async function checkWelcomeEmails(label: string, subscriber: SubscriberRow, emails: ReturnType<TestSmtpServer['messagesTo']>, report: GuaranteeReport) {
  if (emails.length === 0) {
    report.missingOrWrongEmail.push(`${label} received no welcome email`);
    return;
  }

  const passwords = emails.map((email) => /Temporary password: (\S+)/.exec(email.parsed.text ?? '')?.[1] ?? '');
  const works = await Promise.all(passwords.map((password) => verifyPassword(subscriber.password_hash ?? '', password)));

  const last = emails.at(-1)!;
  if (!works.at(-1)) report.missingOrWrongEmail.push(`${label}: the password in the last welcome email does not work`);
  if (!new RegExp(`Username: ${subscriber.username}\\b`).test(last.parsed.text ?? '')) {
    report.missingOrWrongEmail.push(`${label}: the last welcome email does not name username ${subscriber.username}`);
  }

  if (emails.length > 1) {
    report.repeatedEmails.set(subscriber.email.toLowerCase(), emails.length);
    if (works.slice(0, -1).some(Boolean)) report.repeatedEmailsWithWorkingPassword.push(label);
  }
}

async function accountsWithoutMark(sequelize: Sequelize): Promise<string[]> {
  const rows = await sequelize.query<{ id: string; email: string }>(
    `SELECT u.id, u.email FROM users u
     WHERE NOT u.is_staff
       AND (NOT EXISTS (SELECT 1 FROM waitlist_subscribers s WHERE s.user_id = u.id AND s.is_processed)
            OR EXISTS (SELECT 1 FROM waitlist_subscribers s WHERE lower(s.email) = lower(u.email) AND NOT s.is_processed))`,
    { type: QueryTypes.SELECT },
  );
  return rows.map((row) => `user ${row.id} <${row.email}>`);
}

async function duplicateUsers(sequelize: Sequelize): Promise<string[]> {
  const rows = await sequelize.query<{ value: string; count: string }>(
    `SELECT 'username ' || username AS value, count(*) FROM users GROUP BY username HAVING count(*) > 1
     UNION ALL
     SELECT 'email ' || lower(email), count(*) FROM users GROUP BY lower(email) HAVING count(*) > 1`,
    { type: QueryTypes.SELECT },
  );
  return rows.map((row) => `${row.value} (${row.count} users)`);
}

/** Lists subscribers whose row lock is held: a row that `FOR UPDATE SKIP LOCKED` cannot take is claimed by someone. */
async function stillClaimed(sequelize: Sequelize): Promise<string[]> {
  return sequelize.transaction(async (transaction) => {
    const all = await sequelize.query<{ id: string }>('SELECT id FROM waitlist_subscribers', { type: QueryTypes.SELECT, transaction });
    const free = await sequelize.query<{ id: string }>('SELECT id FROM waitlist_subscribers FOR UPDATE SKIP LOCKED', { type: QueryTypes.SELECT, transaction });
    const freeIds = new Set(free.map((row) => row.id));
    return all.filter((row) => !freeIds.has(row.id)).map((row) => `subscriber ${row.id}`);
  });
}

/**
 * Asserts every guarantee of docs/RELIABILITY.md, one assertion per guarantee so that a failure names it.
 * `allowedRepeats` is how many subscribers may have received a second email through the accepted window.
 */
export function assertGuarantees(report: GuaranteeReport, allowedRepeats = 0): void {
  assert.deepEqual(report.markWithoutAccount, [], 'a processed mark without its account');
  assert.deepEqual(report.accountWithoutMark, [], 'an account without its processed mark');
  assert.deepEqual(report.inconsistentState, [], 'processing state left inconsistent');
  assert.deepEqual(report.deliveryRecords, [], 'accepted deliveries do not match the accounts');
  assert.deepEqual(report.missingOrWrongEmail, [], 'an account without a working welcome email');
  assert.deepEqual(report.emailWithoutAccount, [], 'a welcome email without its account');
  assert.deepEqual(report.repeatedEmailsWithWorkingPassword, [], 'an earlier welcome email whose password still works');
  assert.deepEqual(report.duplicateUsers, [], 'a username or address held by two users');
  assert.deepEqual(report.stillClaimed, [], 'subscribers still claimed');
  assert.deepEqual(report.unfinished, [], 'subscribers neither processed nor given up');
  assert.ok(
    report.repeatedEmails.size <= allowedRepeats,
    `${report.repeatedEmails.size} addresses received a second welcome email, more than the ${allowedRepeats} allowed: ${[...report.repeatedEmails.keys()].slice(0, 10).join(', ')}`,
  );
}

/**
 * Asserts that no temporary password or set-password token the test SMTP server saw appears in a dump of the
 * harness's database, in the harness's log lines or in `files` (the log and output files of the processes the
 * test started). The dump and the log lines stay in the artifacts folder for the scan after the whole suite.
 */
export async function assertNoPasswordLeaks(harness: TestHarness, files: string[]): Promise<void> {
  const secrets = new Set([...harness.smtp.passwords, ...harness.smtp.tokens]);
  assert.ok(harness.smtp.passwords.size > 0, 'the test saw at least one password, so the scan has something to look for');

  const dump = await saveDatabaseDump(harness.database.url, 'before-scan');
  const logs = artifactPath('logs', 'harness.jsonl');
  writeFileSync(logs, harness.logs.map((line) => JSON.stringify(line)).join('\n') + '\n');

  const findings = findSecrets(secrets, [dump, logs, ...files]);
  assert.deepEqual(findings, [], 'a temporary password was written to a file');
}
