/**
 * Pieces of the loopback attack scenario shared by the graph tests and the graph bench: small Python servers that
 * print their ephemeral port as their first stdout line, and helpers to wait for that line.
 */

/** One connection on an ephemeral loopback port: accept, read to EOF, print the byte count, exit. */
export const LISTENER_PY = `
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True)
s.settimeout(30)
c, _ = s.accept(); n = 0
while True:
    b = c.recv(65536)
    if not b: break
    n += len(b)
print(n, flush=True)
`;

/** http.server serving argv[1] on an ephemeral loopback port, printing the port once it listens. */
export const HTTP_SERVER_PY = `
import functools, http.server, sys
h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
h.log_message = lambda *a: None
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), h)
print(srv.server_address[1], flush=True)
srv.serve_forever()
`;

/** The promise's value, or `fallback` after `ms` (the timer is cleared either way: nothing keeps the process alive). */
export async function within<T, F>(promise: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([promise, new Promise<F>((done) => (timer = setTimeout(() => done(fallback), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** The first line a subprocess writes to stdout (without the newline); '' if it ends before writing one. */
export async function readFirstLine(proc: ReturnType<typeof Bun.spawn>): Promise<string> {
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  let text = '';
  while (!text.includes('\n')) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return text.includes('\n') ? text.slice(0, text.indexOf('\n')).trim() : '';
}
