import React, { useCallback, useEffect, useState } from 'react';
import { Badge, Box, Button, H2, H4, Loader, MessageBox, Text } from '@adminjs/design-system';
import { ApiClient, useNotice } from 'adminjs';
import BarChart from './BarChart.tsx';

interface DayCount {
  day: string;
  count: number;
  source?: string;
}

interface DashboardData {
  counts: { pending: number; processed: number; needsAttention: number; usersCreated: number; estimated: boolean };
  signupsByDay: DayCount[];
  accountsByDay: DayCount[];
  days: string[];
  sources: Array<{ value: string; label: string }>;
  lastRun: { startedAt: string; processed: number; existing: number; failed: number; durationMs: number | null; trigger: string } | null;
  nextRun: { at: string | null; note: string };
  pause: { paused: boolean; pausedAt: string | null; pausedBy: string | null };
}

const api = new ApiClient();

const formatTime = (value: string | null) => (value ? new Date(value).toLocaleString() : 'never');

const StatCard = ({ label, value, estimated = false, testId }: { label: string; value: number; estimated?: boolean; testId: string }) => (
  <Box variant="card" flex flexDirection="column" p="lg" mr="lg" mb="lg" style={{ minWidth: 180 }} data-testid={testId}>
    <Text color="grey60">{label}</Text>
    <H2 mb={0} title={estimated ? 'Estimate' : undefined}>
      {estimated ? '≈ ' : ''}
      {value.toLocaleString()}
    </H2>
  </Box>
);

/** The landing page: counts, charts, the last and next run, the pause switch and the Process pending now button. */
const Dashboard = () => {
  const [data, setData] = useState<DashboardData | null>(null);
  const [busy, setBusy] = useState(false);
  const addNotice = useNotice();

  const load = useCallback(async () => {
    const response = await api.getDashboard<DashboardData>();
    setData(response.data);
  }, []);

  useEffect(() => {
    load();
  }, [load]);

  const run = async (resourceId: string, actionName: string, question: string) => {
    if (!window.confirm(question)) return;
    setBusy(true);
    try {
      const response = await api.resourceAction({ resourceId, actionName, method: 'post' });
      if (response.data.notice) addNotice(response.data.notice);
      await load();
    } finally {
      setBusy(false);
    }
  };

  if (!data) return <Loader />;
  const { counts, pause, lastRun, nextRun } = data;

  return (
    <Box p="xxl" data-testid="waitlist-dashboard">
      <H2>Waitlist</H2>
      {pause.paused ? (
        <MessageBox mb="lg" variant="danger" message={`Processing is paused (by ${pause.pausedBy ?? 'unknown'} at ${formatTime(pause.pausedAt)}). No processor claims subscribers until it is resumed.`} />
      ) : null}

      <Box flex flexWrap="wrap">
        <StatCard label="Pending" value={counts.pending} estimated={counts.estimated} testId="count-pending" />
        <StatCard label="Processed" value={counts.processed} estimated={counts.estimated} testId="count-processed" />
        <StatCard label="Needs attention" value={counts.needsAttention} testId="count-needs-attention" />
        <StatCard label="Users created" value={counts.usersCreated} estimated={counts.estimated} testId="count-users-created" />
      </Box>
      {counts.estimated ? (
        <Text mb="lg" color="grey60" data-testid="counts-estimated">
          Counts marked ≈ are PostgreSQL&apos;s estimates, because the waitlist is larger than ADMIN_EXACT_COUNT_LIMIT. Needs attention is exact.
        </Text>
      ) : null}

      <Box variant="card" p="lg" mb="lg">
        <H4>Processing</H4>
        <Text mb="default">
          Last run: {lastRun ? `${formatTime(lastRun.startedAt)} (${lastRun.trigger}): ${lastRun.processed} processed, ${lastRun.existing} existing, ${lastRun.failed} failed in ${lastRun.durationMs ?? '?'} ms` : 'none yet'}
        </Text>
        <Text mb="lg">Next scheduled run: {nextRun.at ? formatTime(nextRun.at) : nextRun.note}</Text>
        <Badge mr="lg" variant={pause.paused ? 'danger' : 'success'} data-testid="pause-state">{pause.paused ? 'Paused' : 'Running'}</Badge>
        {pause.paused ? (
          <Button mr="default" disabled={busy} onClick={() => run('processor_settings', 'resumeProcessing', 'Resume processing? Every processor starts claiming subscribers again.')}>
            Resume processing
          </Button>
        ) : (
          <Button mr="default" variant="danger" disabled={busy} onClick={() => run('processor_settings', 'pauseProcessing', 'Pause processing? No processor claims subscribers until it is resumed.')}>
            Pause processing
          </Button>
        )}
        <Button variant="contained" disabled={busy} onClick={() => run('waitlist_subscribers', 'processPending', 'Process one batch of pending subscribers now? Each new account gets a welcome email.')}>
          Process pending now
        </Button>
      </Box>

      <Box variant="card" p="lg" mb="lg">
        <H4>Signups per day, last 30 days, by source</H4>
        <BarChart days={data.days} series={data.sources.map((source) => ({ key: source.value, label: source.label }))} counts={data.signupsByDay} testId="chart-signups" />
      </Box>
      <Box variant="card" p="lg">
        <H4>Accounts created per day, last 30 days</H4>
        <BarChart days={data.days} series={[{ key: 'accounts', label: 'Accounts' }]} counts={data.accountsByDay.map((item) => ({ ...item, source: 'accounts' }))} testId="chart-accounts" />
      </Box>
    </Box>
  );
};

export default Dashboard;
