import React from 'react';
import { Link, Text, ValueGroup } from '@adminjs/design-system';
import { ViewHelpers, type BasePropertyProps } from 'adminjs';

const h = new ViewHelpers();

/** On a user's page: a link back to the waitlist subscriber the account came from. */
const SubscriberLink = ({ record }: BasePropertyProps) => {
  const id = record?.params.subscriber_id;
  return (
    <ValueGroup label="Waitlist subscriber">
      {id ? (
        <Link href={h.showUrl('waitlist_subscribers', String(id))} data-testid="subscriber-link">
          {record?.params.subscriber_email ?? `Subscriber ${id}`}
        </Link>
      ) : (
        <Text>Not from the waitlist</Text>
      )}
    </ValueGroup>
  );
};

export default SubscriberLink;
