import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';

/**
 * Environment variable naming the folder where a test run keeps what the secret scan reads: output and log
 * files of the processes the tests start, and a dump of every test database taken before it is dropped.
 * `npm test` sets it for the whole suite and scans the folder after the last test file.
 */
export const ARTIFACTS_VARIABLE = 'WAITLIST_TEST_ARTIFACTS';

// Secrets are kept apart from the files that the scan reads, or the scan would find every one of them.
const SECRETS_FOLDER = 'secrets';

let fallbackFolder: string | undefined;

/** Returns the artifacts folder of this run, or a temporary one when a test file runs outside `npm test`. */
export function artifactsDir(): string {
  const configured = process.env[ARTIFACTS_VARIABLE];
  if (configured) return configured;

  if (!fallbackFolder) {
    const folder = mkdtempSync(path.join(tmpdir(), 'waitlist-artifacts-'));
    process.on('exit', () => rmSync(folder, { recursive: true, force: true }));
    fallbackFolder = folder;
  }
  return fallbackFolder;
}

/** Returns a new path inside the artifacts folder for a file that the scan reads, such as a worker's output. */
export function artifactPath(folder: string, name: string): string {
  const directory = path.join(artifactsDir(), folder);
  mkdirSync(directory, { recursive: true });
  return path.join(directory, `${process.pid}-${name}`);
}

/**
 * Adds secrets that a test saw in an email (temporary passwords and set-password tokens), so that the scan
 * after the suite looks for them.
 */
export function recordSecrets(secrets: Iterable<string>): void {
  const lines = [...secrets].map((secret) => `${secret}\n`).join('');
  if (lines === '') return;

  const directory = path.join(artifactsDir(), SECRETS_FOLDER);
  mkdirSync(directory, { recursive: true });
  appendFileSync(path.join(directory, `${process.pid}.txt`), lines, { mode: 0o600 });
}

/** Returns every secret recorded by any test process of this run. */
export function recordedSecrets(folder = artifactsDir()): Set<string> {
  const directory = path.join(folder, SECRETS_FOLDER);
  const secrets = new Set<string>();
  if (!safeIsDirectory(directory)) return secrets;

  for (const file of readdirSync(directory)) {
    for (const line of readFileSync(path.join(directory, file), 'utf8').split('\n')) {
      if (line !== '') secrets.add(line);
    }
  }
  return secrets;
}

/**
 * Writes every row of every table of the database at `url` as one JSON object a line, into the artifacts
 * folder. The dump goes through SQL rather than pg_dump, because the machine's pg_dump (15) refuses the
 * newer embedded server.
 */
export async function saveDatabaseDump(url: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: url, application_name: 'waitlist-test-dump' });
  await client.connect();

  try {
    const tables = await client.query<{ schema: string; table: string }>(
      `SELECT table_schema AS schema, table_name AS table FROM information_schema.tables
       WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')
       ORDER BY 1, 2`,
    );

    const lines: string[] = [];
    for (const { schema, table } of tables.rows) {
      const qualified = `${client.escapeIdentifier(schema)}.${client.escapeIdentifier(table)}`;
      const rows = await client.query<{ row: string }>(`SELECT row_to_json(t)::text AS row FROM ${qualified} t`);
      for (const { row } of rows.rows) lines.push(`${schema}.${table}\t${row}`);
    }

    const file = artifactPath('dumps', `${name}.jsonl`);
    writeFileSync(file, lines.join('\n') + '\n');
    return file;
  } finally {
    await client.end();
  }
}

/** Where a secret was found: the file and the form it had there. */
export interface SecretFinding {
  file: string;
  form: 'plain' | 'url-encoded' | 'html-escaped';
}

/**
 * Looks for each secret in every file under `folders` (recursively), as written, URL-encoded and
 * HTML-escaped. Returns one finding per file and form; the findings name no secret.
 */
export function findSecrets(secrets: Set<string>, folders: string[]): SecretFinding[] {
  const findings: SecretFinding[] = [];
  if (secrets.size === 0) return findings;

  for (const file of folders.flatMap(filesUnder)) {
    const content = readFileSync(file, 'utf8');
    const forms: Array<[SecretFinding['form'], string]> = [
      ['plain', content],
      ['url-encoded', decodePercentEscapes(content)],
      ['html-escaped', unescapeHtml(content)],
    ];
    for (const [form, text] of forms) {
      if (containsAny(text, secrets)) findings.push({ file, form });
    }
  }
  return findings;
}

/** Returns the folders of the artifacts folder that the scan reads: everything but the recorded secrets. */
export function scannedFolders(folder = artifactsDir()): string[] {
  if (!safeIsDirectory(folder)) return [];
  return readdirSync(folder)
    .filter((entry) => entry !== SECRETS_FOLDER)
    .map((entry) => path.join(folder, entry));
}

/** What the scan after the suite found: how many secrets it looked for, in how many files, and where it found one. */
export interface ScanResult {
  secrets: number;
  files: number;
  findings: SecretFinding[];
}

/** Looks for every secret that any test process recorded in every file of the artifacts folder `folder`. */
export function scanArtifacts(folder: string): ScanResult {
  const secrets = recordedSecrets(folder);
  const folders = scannedFolders(folder);
  return { secrets: secrets.size, files: folders.flatMap(filesUnder).length, findings: findSecrets(secrets, folders) };
}

function filesUnder(entry: string): string[] {
  // A process killed during start-up may never have created its log file.
  if (!existsSync(entry)) return [];
  if (!safeIsDirectory(entry)) return [entry];
  return readdirSync(entry).flatMap((child) => filesUnder(path.join(entry, child)));
}

function safeIsDirectory(entry: string): boolean {
  try {
    return statSync(entry).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Returns whether any secret occurs in `text`. It checks every window of each secret's length inside runs of
 * characters that can occur in a secret, which is linear in the text, instead of one search per secret
 * (thousands of secrets over megabytes of dumps).
 */
function containsAny(text: string, secrets: Set<string>): boolean {
  const lengths = new Set([...secrets].map((secret) => secret.length));
  const shortest = Math.min(...lengths);
  const runs = new RegExp(`[^\\s"'<>\\\\,;:=/()\\[\\]{}|]{${shortest},}`, 'g');

  for (const [run] of text.matchAll(runs)) {
    for (const length of lengths) {
      for (let start = 0; start + length <= run.length; start++) {
        if (secrets.has(run.slice(start, start + length))) return true;
      }
    }
  }
  return false;
}

function decodePercentEscapes(text: string): string {
  return text.replace(/%([0-9a-f]{2})/gi, (_match, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

function unescapeHtml(text: string): string {
  return text
    .replace(/&#x([0-9a-f]+);/gi, (_match, hex: string) => String.fromCharCode(parseInt(hex, 16)))
    .replace(/&#([0-9]+);/g, (_match, decimal: string) => String.fromCharCode(Number(decimal)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}
