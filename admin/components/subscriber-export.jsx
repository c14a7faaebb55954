import React from 'react';
import { Box, Button, Text } from '@adminjs/design-system';
import { ViewHelpers } from 'adminjs';

// Export action: AdminJS opens it with the list's filter in the query string; the link downloads that selection as CSV.
const SubscriberExport = ({ resource, action }) => {
  const search = new URLSearchParams(window.location.search);
  search.set('download', 'csv');
  const href = new ViewHelpers().urlBuilder(['api', 'resources', resource.id, 'actions', action.name], `?${search.toString()}`);
  const filtered = [...search.keys()].some((key) => key.startsWith('filters.'));

  return (
    <Box variant="container">
      <Text mb="lg">
        {filtered ? 'Download the subscribers that match the current filter' : 'Download every subscriber'} as CSV, oldest first.
        Cells that a spreadsheet would run as a formula start with an apostrophe.
      </Text>
      <Button as="a" variant="contained" href={href} download>Download CSV</Button>
    </Box>
  );
};

export default SubscriberExport;
