// Runs the built Kibana server module (server/index.js) under Node, as Kibana would: the plugin registers its routes
// on a recording router, then the Offline analysis upload is sent to the POST handler as a Node stream with a real
// Elasticsearch client in the place of the request user's (asCurrentUser); the job is polled through the GET handler
// and the case is read through the graph route with ?case=. Prints one JSON object. Used by offline-kibana.es.test.ts.
'use strict';
const { readFileSync } = require('node:fs');
const { Readable } = require('node:stream');
const { Client, HttpConnection } = require('@elastic/elasticsearch');

const [serverModule, esUrl, pcap, audit] = process.argv.slice(2);
const routes = {};
const record = (method) => (config, handler) => (routes[`${method} ${config.path}`] = { config, handler });
const { plugin } = require(serverModule);
plugin({ logger: { get: () => ({ info() {}, warn() {} }) }, config: { get: () => ({ enabled: true, narrative: { url: '', api: 'ollama', model: '', timeout_s: 60, api_key: '' } }) } }).setup({ http: { createRouter: () => ({ get: record('get'), post: record('post') }) } });

const client = new Client({ node: esUrl, Connection: HttpConnection });
const context = { core: Promise.resolve({ elasticsearch: { client: { asCurrentUser: client } } }) };
const response = {
  ok: ({ body }) => ({ status: 200, body }),
  custom: ({ statusCode, body }) => ({ status: statusCode, body }),
  customError: ({ statusCode, body }) => ({ status: statusCode, body }),
};
const validated = (fn, data) => fn(data, { ok: (v) => ({ ok: v }), badRequest: (m) => ({ bad: m }) });

async function main() {
  const form = new FormData();
  form.append('tolerance', '2');
  form.append('capture', new Blob([readFileSync(pcap)]), 'lo.pcapng');
  form.append('audit', new Blob([readFileSync(audit)]), 'audit.log');
  const request = new Request('http://kibana.invalid/api/provmon/offline/cases', { method: 'POST', body: form });
  const upload = routes['post /api/provmon/offline/cases'];
  const accepted = await upload.handler(context, { query: {}, params: {}, headers: { 'content-type': request.headers.get('content-type'), 'kbn-xsrf': 'x' }, body: Readable.fromWeb(request.body) }, response);
  const out = { node: process.version, accepted };
  if (accepted.status === 202) {
    const status = routes['get /api/provmon/offline/cases/{id}'];
    const id = accepted.body.id;
    for (;;) {
      const job = await status.handler(context, { query: {}, params: { id }, headers: {} }, response);
      if (job.body.phase === 'done' || job.body.phase === 'failed') {
        out.job = job;
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    await client.indices.refresh({ index: `logs-provmon.*-case_${id}` });
    const graph = routes['get /api/provmon/graph'];
    const query = validated(graph.config.validate.query, { poi: 'ip:127.0.80.1:8080', direction: 'backward', case: id });
    out.graph = await graph.handler(context, { query: query.ok, params: {}, headers: {} }, response);
  }
  await client.close();
  process.stdout.write(JSON.stringify(out));
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error));
  process.exit(1);
});
