import assert from 'node:assert/strict';
import type { Express } from 'express';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent.js';
import { createApp } from '../../src/http/app.ts';
import { hashPassword } from '../../src/passwords.ts';
import type { User } from '../../models/index.ts';
import type { TestHarness } from './context.ts';

/** The password every staff account made by `makeStaff` gets. */
export const STAFF_PASSWORD = 'correct horse battery staple';

let staffSequence = 0;

type StaffFields = Partial<Pick<User, 'email' | 'username' | 'is_staff' | 'is_superuser' | 'is_active'>>;

/** Adds an account with STAFF_PASSWORD: active superuser staff unless `overrides` says otherwise. */
export async function makeStaff(harness: TestHarness, overrides: StaffFields = {}): Promise<User> {
  staffSequence += 1;
  return harness.context.models.User.create({
    username: `staff${staffSequence}-${process.pid}`,
    email: `staff${staffSequence}-${process.pid}@example.com`,
    password_hash: await hashPassword(STAFF_PASSWORD, harness.config.passwords.argon2),
    last_name: null,
    phone_number: null,
    password_expires_at: null,
    last_login: null,
    is_staff: true,
    is_superuser: true,
    ...overrides,
  });
}

/** Fails when a response body could carry a password hash: the column name or an argon2 hash string. */
export function assertNoPasswordHash(body: string, where: string): void {
  assert.doesNotMatch(body, /password_hash/, `${where} names the password_hash column`);
  assert.doesNotMatch(body, /\$argon2/, `${where} contains an argon2 hash`);
}

/** A supertest agent signed in to the panel, whose every response is checked for password hashes. */
export interface AdminClient {
  agent: TestAgent;
  get(path: string): Promise<request.Response>;
  post(path: string, fields?: Record<string, string>): Promise<request.Response>;
}

export function adminClient(app: Express): AdminClient {
  const agent = request.agent(app);
  const checked = async (pending: Promise<request.Response>, where: string) => {
    const response = await pending;
    assertNoPasswordHash(response.text ?? '', where);
    return response;
  };

  return {
    agent,
    get: (path) => checked(agent.get(path).then((response) => response), `GET ${path}`),
    post: (path, fields = {}) => checked(agent.post(path).type('form').send(fields).then((response) => response), `POST ${path}`),
  };
}

/** Signs `user` in through the login form and returns the signed-in client. */
export async function signIn(app: Express, user: Pick<User, 'email'>, password = STAFF_PASSWORD): Promise<AdminClient> {
  const client = adminClient(app);
  const response = await client.post('/admin/login', { email: user.email, password });
  assert.equal(response.status, 302, `sign-in of ${user.email} redirects; got ${response.status}`);
  return client;
}

/** Builds the Express app on the harness context, as `waitlist serve` does. */
export function appFor(harness: TestHarness): Express {
  return createApp(harness.context);
}

/** Truncates everything the admin tests write, keeping the pause switch's row, set to running. */
export async function resetAdminTables(harness: TestHarness): Promise<void> {
  const { sequelize } = harness.context.database;
  await sequelize.query(
    'TRUNCATE email_deliveries, waitlist_subscribers, users, processor_runs, admin_audit_entries, sign_in_throttles, http_sessions RESTART IDENTITY CASCADE',
  );
  await sequelize.query('UPDATE processor_settings SET paused = false, paused_at = NULL, paused_by = NULL');
  harness.smtp.received.length = 0;
  harness.smtp.recipientReply = () => undefined;
  harness.smtp.dataReply = () => undefined;
  await harness.smtp.mode('accept');
}
