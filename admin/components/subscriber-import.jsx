import React, { useState } from 'react';
import { Box, Button, CheckBox, H3, Label, Table, TableBody, TableCell, TableHead, TableRow, Text } from '@adminjs/design-system';
import { ApiClient, useNotice } from 'adminjs';

// Import action: uploads a CSV file to the importSubscribers handler and shows its counts and invalid rows.
const SubscriberImport = ({ resource, action }) => {
  const [file, setFile] = useState(null);
  const [dryRun, setDryRun] = useState(true);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState(null);
  const addNotice = useNotice();
  let submitLabel = dryRun ? 'Check file' : 'Import';
  if (busy) submitLabel = 'Importing…';

  const submit = async (event) => {
    event.preventDefault();
    if (!file) return;

    const data = new FormData();
    data.append('file', file);
    data.append('dryRun', String(dryRun));
    setBusy(true);
    try {
      const response = await new ApiClient().resourceAction({ resourceId: resource.id, actionName: action.name, data });
      setResult(response.data);
      if (response.data.notice) addNotice(response.data.notice);
    } catch (error) {
      addNotice({ message: `The import failed: ${error.message}`, type: 'error' });
    } finally {
      setBusy(false);
    }
  };

  return (
    <Box variant="container">
      <form onSubmit={submit}>
        <Text mb="lg">
          A CSV file with a header row: email (required), name, phone_number, source and created_at. Addresses already on the list are skipped, never changed.
        </Text>
        <Box mb="lg">
          <Label htmlFor="subscriber-import-file">CSV file</Label>
          <input id="subscriber-import-file" type="file" accept=".csv,text/csv" onChange={(event) => setFile(event.target.files[0] ?? null)} />
        </Box>
        <Box mb="lg">
          <CheckBox id="subscriber-import-dry-run" checked={dryRun} onChange={() => setDryRun(!dryRun)} />
          <Label inline htmlFor="subscriber-import-dry-run" ml="default">Dry run: check and count, store nothing</Label>
        </Box>
        <Button variant="contained" type="submit" disabled={!file || busy}>{submitLabel}</Button>
      </form>

      {result && result.summary && (
        <Box mt="xl">
          <H3>{result.summary.dryRun ? 'Dry run' : 'Import'} result</H3>
          <Text>{result.notice.message}</Text>
          {result.summary.unknownColumns.length > 0 && <Text>Ignored unknown column(s): {result.summary.unknownColumns.join(', ')}.</Text>}
          {result.invalidRows.length > 0 && (
            <Table mt="lg">
              <TableHead>
                <TableRow>
                  <TableCell>Line</TableCell>
                  <TableCell>Reasons</TableCell>
                </TableRow>
              </TableHead>
              <TableBody>
                {result.invalidRows.map((row) => (
                  <TableRow key={row.line}>
                    <TableCell>{row.line}</TableCell>
                    <TableCell>{Object.entries(row.reasons).map(([field, reason]) => `${field}: ${reason}`).join(' ')}</TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          )}
        </Box>
      )}
    </Box>
  );
};

export default SubscriberImport;
