/** The layout worker's bundled code, as text (kibana-plugin/tooling/build.ts builds public/layout-worker.ts into it). */
declare module 'provmon:layout-worker' {
  const source: string;
  export default source;
}
