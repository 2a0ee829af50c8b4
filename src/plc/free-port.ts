import net from 'node:net';

/**
 * A TCP port that was free a moment ago on `host`, found by letting the OS pick one. For tests that
 * need an endpoint before any server listens on it (PLC unreachable at start, PLC restart).
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
  if (address === null || typeof address === 'string') throw new Error(`could not obtain a free port on ${host}`);
  return address.port;
}
