/**
 * An EuiBasicTable that renders one page of its items: a 1,000-node graph has thousands of edges, and rendering
 * every row at once costs the browser seconds. Every row stays reachable through the pager.
 */
import { EuiBasicTable } from '@elastic/eui';
import React, { useEffect, useState } from 'react';
import { h } from './h.ts';

export interface PagedTableProps<T> {
  items: T[];
  columns: unknown[];
  tableCaption: string;
  rowProps?: (item: T) => Record<string, unknown>;
  'data-test-subj': string;
}

export function PagedTable<T>(props: PagedTableProps<T>): React.ReactElement {
  const [page, setPage] = useState({ index: 0, size: 25 });
  // Back to the first page for new items; the same state when already there, so mounting renders the table once.
  useEffect(() => setPage((p) => (p.index === 0 ? p : { ...p, index: 0 })), [props.items]);
  const start = page.index * page.size;
  return h(EuiBasicTable, {
    'data-test-subj': props['data-test-subj'],
    tableCaption: `${props.tableCaption} (${props.items.length})`,
    items: props.items.slice(start, start + page.size),
    columns: props.columns,
    ...(props.rowProps ? { rowProps: props.rowProps } : {}),
    pagination: { pageIndex: page.index, pageSize: page.size, totalItemCount: props.items.length, pageSizeOptions: [25, 100, 500] },
    onChange: ({ page: p }: { page?: { index: number; size: number } }) => p && setPage({ index: p.index, size: p.size }),
  });
}
