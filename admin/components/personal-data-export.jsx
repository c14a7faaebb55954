import React, { useEffect, useState } from 'react';
import { Box, Button, Loader, Text } from '@adminjs/design-system';
import { ApiClient, useNotice } from 'adminjs';

// Data-protection export: fetches everything stored about this subscriber's person and offers it as a JSON file.
const PersonalDataExport = ({ resource, action, record }) => {
  const [report, setReport] = useState(null);
  const addNotice = useNotice();

  useEffect(() => {
    new ApiClient()
      .recordAction({ resourceId: resource.id, recordId: record.id, actionName: action.name })
      .then((response) => {
        if (response.data.notice) addNotice(response.data.notice);
        setReport(response.data.personalData ?? null);
      });
  }, [record.id]);

  if (!report) return <Loader />;

  const json = JSON.stringify(report, null, 2);
  const href = URL.createObjectURL(new Blob([json], { type: 'application/json' }));
  return (
    <Box variant="container">
      <Text mb="lg">
        {report.subscribers.length} subscriber row(s), {report.users.length} account(s) and {report.email_deliveries.length} email deliveries. The password hash is never included.
      </Text>
      <Button as="a" variant="contained" href={href} download={`personal-data-${record.id}.json`}>Download JSON</Button>
      <Box as="pre" mt="lg" style={{ whiteSpace: 'pre-wrap' }}>{json}</Box>
    </Box>
  );
};

export default PersonalDataExport;
