import React from 'react';
import { Badge } from '@adminjs/design-system';
import type { BasePropertyProps } from 'adminjs';

/** Marks, in the list, a subscriber whose processing gave up and needs an operator. */
const NeedsAttention = ({ record }: BasePropertyProps) => {
  if (!record?.params.gave_up_at || record.params.is_processed) return null;
  return (
    <Badge variant="danger" size="sm" title={`Gave up: ${record.params.last_error_code ?? 'unknown error'}`}>
      Needs attention
    </Badge>
  );
};

export default NeedsAttention;
