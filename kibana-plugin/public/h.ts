/**
 * Classic `createElement` (Kibana shares no jsx-runtime) under a loose signature: EUI's prop types declare
 * `children` as a required prop, which createElement's overloads cannot express when children are arguments.
 */
import React from 'react';

export const h = React.createElement as unknown as (type: unknown, props?: object | null, ...children: unknown[]) => React.ReactElement;
