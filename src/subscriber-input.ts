import { domainToASCII } from 'node:url';
import { isSupportedCountry, parsePhoneNumberWithError, type CountryCode } from 'libphonenumber-js/max';
import { DEFAULT_SOURCE, isSubscriberSource, SUBSCRIBER_SOURCES, type SubscriberSource } from './sources.ts';

// The one set of rules for what a subscriber may contain. The signup API, the CSV importer and the
// WaitlistSubscriber model (so the admin panel too) all call these functions, so every way in stores the
// same normalised values and shows the same messages.

/** Column limits, in characters, matching the varchar sizes in the waitlist_subscribers table. */
export const NAME_MAX_LENGTH = 255;
/** RFC 5321 limits, in bytes of UTF-8: the whole address and the part before the @. */
export const EMAIL_MAX_BYTES = 254;
export const EMAIL_LOCAL_PART_MAX_BYTES = 64;
/** Longest phone text passed to the parser; longer input is rejected before parsing. */
const PHONE_INPUT_MAX_LENGTH = 64;

export const EMAIL_EXAMPLE = 'ada@example.com';
export const PHONE_EXAMPLE = '+44 20 7946 0958';

/** The fields a subscriber is made of, after normalisation. */
export interface SubscriberInput {
  /** Trimmed, NFC-normalised, with the domain lower-cased and in its ASCII (punycode) form. */
  email: string;
  name: string | null;
  /** E.164, such as +442079460958. */
  phone_number: string | null;
  source: SubscriberSource;
}

export interface InputOptions {
  /** Country for phone numbers written without a country code (ISO 3166 alpha-2, such as GB); none means a country code is required. */
  phoneCountry?: CountryCode;
}

export type FieldResult<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Messages by field name, one reason each. */
export type FieldErrors = Record<string, string>;

export type InputResult<T> = { ok: true; value: T } | { ok: false; errors: FieldErrors };

/** Thrown when input breaks the rules; `fields` maps each invalid field to the reason and the fix. */
export class InvalidInputError extends Error {
  readonly code = 'invalid_input';

  constructor(readonly fields: FieldErrors) {
    super(`Invalid ${Object.keys(fields).join(', ')}: ${Object.values(fields).join(' ')}`);
    this.name = 'InvalidInputError';
  }
}

const valid = <T>(value: T): FieldResult<T> => ({ ok: true, value });
const invalid = (reason: string): FieldResult<never> => ({ ok: false, reason });

// With the u flag, a surrogate matches only when it is not part of a pair.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * Reads a single text value: arrays (a repeated form field), objects and numbers are rejected with a reason,
 * and null or undefined become undefined.
 */
function readText(value: unknown, label: string, example: string): FieldResult<string | undefined> {
  if (value === undefined || value === null) return valid(undefined);
  if (Array.isArray(value)) return invalid(`Send one ${label}, not a list.`);
  if (typeof value !== 'string') return invalid(`Send the ${label} as text, such as "${example}".`);
  if (LONE_SURROGATE.test(value)) return invalid(`The ${label} contains broken Unicode text (an unpaired surrogate); send valid UTF-8.`);
  return valid(value.trim().normalize('NFC'));
}

const utf8Length = (text: string) => Buffer.byteLength(text, 'utf8');
const characterCount = (text: string) => [...text].length;

// Letters RFC 5322 allows in an unquoted local part, plus any non-ASCII character except controls,
// separators and unassigned or private code points (RFC 6531 allows UTF-8 there).
const LOCAL_ATOM = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]|[^\\p{ASCII}\\p{C}\\p{Z}]";
const DOT_ATOM_LOCAL_PART = new RegExp(`^(?:${LOCAL_ATOM})+(?:\\.(?:${LOCAL_ATOM})+)*$`, 'u');
// A quoted local part of printable ASCII, with backslash escapes: "john smith"@example.com.
const QUOTED_LOCAL_PART = /^"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])*"$/;
const DOMAIN_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Normalises an email address: trims it, applies Unicode NFC, lower-cases the domain and converts an
 * internationalised domain to its ASCII form (bücher.example becomes xn--bcher-kva.example).
 * The part before the @ keeps its case. Rejects addresses without a dotted domain name (no IP literals).
 */
export function normaliseEmail(value: unknown): FieldResult<string> {
  const text = readText(value, 'email address', EMAIL_EXAMPLE);
  if (!text.ok) return text;
  if (!text.value) return invalid(`Enter an email address, such as ${EMAIL_EXAMPLE}.`);

  const at = text.value.lastIndexOf('@');
  if (at < 0) return invalid(`Enter a full email address with an @ and a domain, such as ${EMAIL_EXAMPLE}.`);

  const local = text.value.slice(0, at);
  const domain = checkDomain(text.value.slice(at + 1));
  if (!domain.ok) return domain;

  const localProblem = checkLocalPart(local);
  if (localProblem) return invalid(localProblem);

  const email = `${local}@${domain.value}`;
  if (utf8Length(email) > EMAIL_MAX_BYTES) return invalid(`Email address must be at most ${EMAIL_MAX_BYTES} bytes long.`);
  return valid(email);
}

function checkLocalPart(local: string): string | undefined {
  if (local === '') return `Enter the part before the @, such as ${EMAIL_EXAMPLE}.`;
  if (utf8Length(local) > EMAIL_LOCAL_PART_MAX_BYTES) return `The part before the @ must be at most ${EMAIL_LOCAL_PART_MAX_BYTES} bytes long.`;
  if (DOT_ATOM_LOCAL_PART.test(local) || QUOTED_LOCAL_PART.test(local)) return undefined;
  return `The part before the @ contains a space, a second @ or another character an email address cannot have; enter an address such as ${EMAIL_EXAMPLE}.`;
}

function checkDomain(domain: string): FieldResult<string> {
  const fix = `enter an address such as ${EMAIL_EXAMPLE}`;
  if (domain === '') return invalid(`Enter the domain after the @; ${fix}.`);
  if (domain.startsWith('[')) return invalid(`Use a domain name after the @, not an IP address; ${fix}.`);

  // domainToASCII lower-cases and applies IDNA (UTS #46); it returns '' for a name it cannot convert.
  const ascii = domainToASCII(domain);
  const labels = ascii.split('.');
  const wellFormed =
    ascii !== '' &&
    ascii.length <= 253 &&
    labels.length >= 2 &&
    labels.every((label) => DOMAIN_LABEL.test(label)) &&
    !/^[0-9]+$/.test(labels[labels.length - 1]);

  if (!wellFormed) return invalid(`The domain "${truncate(domain)}" after the @ is not a valid domain name; ${fix}.`);
  return valid(ascii);
}

const truncate = (text: string) => (text.length > 40 ? `${text.slice(0, 40)}…` : text);

// C0 and C1 controls (tab, CR, LF, NUL, DEL …), line and paragraph separators, and the bidirectional
// overrides and isolates that can make a name display as something else.
const NAME_FORBIDDEN = /[\p{Cc}\p{Zl}\p{Zp}\u202A-\u202E\u2066-\u2069]/u;

/** Normalises a full name: trimmed and NFC; empty becomes null; at most 255 characters, no control characters. */
export function normaliseName(value: unknown): FieldResult<string | null> {
  const text = readText(value, 'name', 'Ada Lovelace');
  if (!text.ok) return text;
  if (!text.value) return valid(null);

  if (NAME_FORBIDDEN.test(text.value)) return invalid('Name cannot contain line breaks, tabs or other control characters; enter it on one line.');

  const length = characterCount(text.value);
  if (length > NAME_MAX_LENGTH) return invalid(`Name must be at most ${NAME_MAX_LENGTH} characters; this one has ${length}.`);
  return valid(text.value);
}

/**
 * Parses a phone number with libphonenumber-js (full metadata) and returns it in E.164 form, such as +442079460958.
 * Without `phoneCountry`, the number must start with + and its country code. Extensions are rejected,
 * because E.164 cannot hold them.
 */
export function normalisePhone(value: unknown, options: InputOptions = {}): FieldResult<string | null> {
  const text = readText(value, 'phone number', PHONE_EXAMPLE.replaceAll(' ', ''));
  if (!text.ok) return text;
  if (!text.value) return valid(null);

  const fix = options.phoneCountry
    ? `enter a number such as ${PHONE_EXAMPLE}`
    : `enter it with + and the country code, such as ${PHONE_EXAMPLE}`;
  if (text.value.length > PHONE_INPUT_MAX_LENGTH) return invalid(`Phone number is too long; ${fix}.`);

  try {
    const phone = parsePhoneNumberWithError(text.value, { defaultCountry: options.phoneCountry });
    if (phone.ext) return invalid(`Phone number cannot include an extension; ${fix}.`);
    if (!phone.isValid()) return invalid(`"${text.value}" is not a valid phone number; ${fix}.`);
    return valid(phone.number);
  } catch {
    return invalid(`"${text.value}" is not a phone number this service can read; ${fix}.`);
  }
}

/**
 * Reads a source: one of the eight values, without regard to case, also written with spaces or hyphens
 * (so the labels "Social media" and "email-campaign" work too). Empty means `website`.
 */
export function normaliseSource(value: unknown): FieldResult<SubscriberSource> {
  const text = readText(value, 'source', DEFAULT_SOURCE);
  if (!text.ok) return text;
  if (!text.value) return valid(DEFAULT_SOURCE);

  const candidate = text.value.toLowerCase().replace(/[\s-]+/g, '_');
  if (isSubscriberSource(candidate)) return valid(candidate);
  return invalid(`Source must be one of: ${SUBSCRIBER_SOURCES.join(', ')}.`);
}

/** Reads a country code for phone numbers without one (such as GB or us); undefined when empty. */
export function parsePhoneCountry(value: string | undefined): FieldResult<CountryCode | undefined> {
  const code = value?.trim().toUpperCase();
  if (!code) return valid(undefined);
  if (isSupportedCountry(code)) return valid(code);
  return invalid(`"${value}" is not a country code the phone number library knows; use two letters, such as GB or US.`);
}

/** Validates and normalises all fields at once, collecting a reason for every invalid one. */
export function parseSubscriberInput(raw: Record<string, unknown>, options: InputOptions = {}): InputResult<SubscriberInput> {
  const results = {
    email: normaliseEmail(raw.email),
    name: normaliseName(raw.name),
    phone_number: normalisePhone(raw.phone_number, options),
    source: normaliseSource(raw.source),
  };

  const errors: FieldErrors = {};
  for (const [field, result] of Object.entries(results)) {
    if (!result.ok) errors[field] = result.reason;
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };

  return {
    ok: true,
    value: {
      email: (results.email as { value: string }).value,
      name: (results.name as { value: string | null }).value,
      phone_number: (results.phone_number as { value: string | null }).value,
      source: (results.source as { value: SubscriberSource }).value,
    },
  };
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?\s*(Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * Reads a signup time from a file: an ISO 8601 date, or date and time, with an optional zone (Z or ±HH:MM).
 * A time without a zone is taken as UTC, and empty text gives undefined. Times after `now` are rejected
 * because they would put a person behind everyone who joined later.
 */
export function parseSignupTime(value: unknown, now: Date): FieldResult<Date | undefined> {
  const example = '2026-01-31T14:05:00Z';
  const text = readText(value, 'created_at', example);
  if (!text.ok) return text;
  if (!text.value) return valid(undefined);

  const match = TIMESTAMP.exec(text.value);
  const date = match ? timestampFromParts(match) : undefined;
  if (!date) return invalid(`created_at must be a date or date and time such as ${example} or 2026-01-31; got "${truncate(text.value)}".`);
  if (date.getTime() > now.getTime()) return invalid(`created_at ${date.toISOString()} is in the future; use the time the person joined.`);
  return valid(date);
}

function timestampFromParts(match: RegExpExecArray): Date | undefined {
  const [, year, month, day, hour = '0', minute = '0', second = '0', fraction = '0', zone] = match;
  const fields = [Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second)] as const;
  const milliseconds = Math.floor(Number(`0.${fraction}`) * 1000);
  const utc = Date.UTC(...fields, milliseconds);

  // Date.UTC rolls 2026-02-30 over to March; a round trip catches such dates.
  const check = new Date(utc);
  const rolledOver =
    check.getUTCFullYear() !== fields[0] ||
    check.getUTCMonth() !== fields[1] ||
    check.getUTCDate() !== fields[2] ||
    check.getUTCHours() !== fields[3] ||
    check.getUTCMinutes() !== fields[4] ||
    check.getUTCSeconds() !== fields[5];
  if (rolledOver) return undefined;

  const offset = zoneOffsetMinutes(zone);
  if (offset === undefined) return undefined;
  return new Date(utc - offset * 60_000);
}

/** Returns the zone's offset from UTC in minutes, or undefined for an offset no zone has (beyond ±14:00). */
function zoneOffsetMinutes(zone: string | undefined): number | undefined {
  if (!zone || zone.toUpperCase() === 'Z') return 0;
  const digits = zone.replace(':', '');
  const hours = Number(digits.slice(1, 3));
  const minutes = Number(digits.slice(3, 5));
  if (hours > 14 || minutes > 59) return undefined;
  return (digits.startsWith('-') ? -1 : 1) * (hours * 60 + minutes);
}
