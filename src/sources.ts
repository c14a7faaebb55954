/** Labels of the values the `source` column accepts: where a subscriber heard of us. */
export const SOURCE_LABELS = {
  website: 'Website',
  social_media: 'Social media',
  email_campaign: 'Email campaign',
  referral: 'Referral',
  advertisement: 'Advertisement',
  influencer: 'Influencer',
  newsletter: 'Newsletter',
  other: 'Other',
} as const;

export type SubscriberSource = keyof typeof SOURCE_LABELS;

export const SUBSCRIBER_SOURCES = Object.keys(SOURCE_LABELS) as SubscriberSource[];

export const DEFAULT_SOURCE: SubscriberSource = 'website';

export function isSubscriberSource(value: unknown): value is SubscriberSource {
  return typeof value === 'string' && Object.hasOwn(SOURCE_LABELS, value);
}
