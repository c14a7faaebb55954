import React from 'react';
import { Box, H4, Table, TableBody, TableCell, TableHead, TableRow, Text } from '@adminjs/design-system';
import { BasePropertyComponent, flat, type ActionProps } from 'adminjs';

interface Delivery {
  id: string;
  kind: string;
  status: string;
  recipient: string;
  smtp_response: string | null;
  error_code: string | null;
  error_message: string | null;
  created_at: string;
}

const SECTIONS = [
  { title: 'Subscriber information', properties: ['email', 'name', 'phone_number', 'source'] },
  { title: 'Extracted names', properties: ['first_name', 'last_name'] },
  {
    title: 'Processing status',
    properties: ['is_processed', 'created_at', 'processed_at', 'attempts', 'last_error_code', 'last_error_message', 'next_attempt_at', 'gave_up_at', 'user_id'],
  },
];

/** A subscriber's page in three sections, with the emails sent for this subscriber under the processing status. */
const SubscriberShow = ({ resource, record }: ActionProps) => {
  if (!record) return null;
  const deliveries = (flat.get(record.params, 'deliveries') as Delivery[] | undefined) ?? [];

  return (
    <Box>
      {SECTIONS.map((section) => (
        <Box key={section.title} variant="card" p="lg" mb="lg" data-testid={`section-${section.title}`}>
          <H4>{section.title}</H4>
          {section.properties
            .map((name) => resource.properties[name])
            .filter(Boolean)
            .map((property) => (
              <BasePropertyComponent key={property.propertyPath} where="show" property={property} resource={resource} record={record} />
            ))}
          {section.title === 'Processing status' ? <DeliveryTable deliveries={deliveries} /> : null}
        </Box>
      ))}
    </Box>
  );
};

const DeliveryTable = ({ deliveries }: { deliveries: Delivery[] }) => {
  if (deliveries.length === 0) return <Text mt="lg">No email was sent for this subscriber yet.</Text>;

  return (
    <Table mt="lg" data-testid="subscriber-deliveries">
      <TableHead>
        <TableRow>
          <TableCell>Time</TableCell>
          <TableCell>Kind</TableCell>
          <TableCell>Status</TableCell>
          <TableCell>Recipient</TableCell>
          <TableCell>Server response or error</TableCell>
        </TableRow>
      </TableHead>
      <TableBody>
        {deliveries.map((delivery) => (
          <TableRow key={delivery.id}>
            <TableCell>{new Date(delivery.created_at).toLocaleString()}</TableCell>
            <TableCell>{delivery.kind}</TableCell>
            <TableCell>{delivery.status}</TableCell>
            <TableCell>{delivery.recipient}</TableCell>
            <TableCell>{delivery.error_code ? `${delivery.error_code}: ${delivery.error_message ?? ''}` : delivery.smtp_response ?? ''}</TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
};

export default SubscriberShow;
