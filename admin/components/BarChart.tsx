import React from 'react';
import { Box, Text } from '@adminjs/design-system';

interface Series {
  key: string;
  label: string;
}

interface Props {
  days: string[];
  series: Series[];
  counts: Array<{ day: string; source?: string; count: number }>;
  testId: string;
}

const COLORS = ['#3040D6', '#E08F00', '#2E8540', '#C20012', '#6F42C1', '#0095A8', '#8A6D3B', '#555555'];
const WIDTH = 720;
const HEIGHT = 180;

/** A stacked bar chart drawn as SVG, one bar a day, so the panel needs no chart library and no third-party host. */
const BarChart = ({ days, series, counts, testId }: Props) => {
  const value = (day: string, key: string) => counts.find((item) => item.day === day && item.source === key)?.count ?? 0;
  const totals = days.map((day) => series.reduce((sum, item) => sum + value(day, item.key), 0));
  const max = Math.max(1, ...totals);
  const slot = WIDTH / Math.max(1, days.length);

  return (
    <Box data-testid={testId}>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT + 20}`} width="100%" role="img" aria-label={`${series.map((item) => item.label).join(', ')} per day; highest day ${max}`}>
        {days.map((day, index) => {
          let top = HEIGHT;
          return series.map((item, seriesIndex) => {
            const count = value(day, item.key);
            if (count === 0) return null;
            const height = (count / max) * HEIGHT;
            top -= height;
            return (
              <rect key={`${day}-${item.key}`} x={index * slot + 2} y={top} width={slot - 4} height={height} fill={COLORS[seriesIndex % COLORS.length]}>
                <title>{`${day} ${item.label}: ${count}`}</title>
              </rect>
            );
          });
        })}
        <text x={0} y={HEIGHT + 16} fontSize="11">{days[0]}</text>
        <text x={WIDTH} y={HEIGHT + 16} fontSize="11" textAnchor="end">{days[days.length - 1]}</text>
      </svg>
      <Box flex flexWrap="wrap" mt="default">
        {series.map((item, index) => (
          <Text key={item.key} mr="lg" fontSize="sm">
            <span style={{ display: 'inline-block', width: 10, height: 10, marginRight: 4, background: COLORS[index % COLORS.length] }} />
            {item.label}
          </Text>
        ))}
      </Box>
    </Box>
  );
};

export default BarChart;
