/**
 * Stands in for d3-dsv in the browser bundle (build.ts aliases it): vega-loader parses CSV/TSV with it, and d3-dsv
 * builds its row converter with the Function constructor, which Kibana's CSP forbids. provmon's charts carry their
 * values inline, so a CSV data source is refused with this message instead.
 */
export function dsvFormat(): never {
  throw new Error('CSV/TSV data sources are not supported in provmon charts (inline values only)');
}
