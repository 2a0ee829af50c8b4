import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../plc/free-port.js';
import { digestResponse, fetchWithAuth, HttpCameraAuth, networkReason, parseChallenges } from './http-auth.js';

// RFC 7616 §3.9.1: the "Mufasa" example, with its published responses.
const RFC7616 = {
  username: 'Mufasa',
  password: 'Circle of Life',
  realm: 'http-auth@example.org',
  nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
  opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
  cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  method: 'GET',
  uri: '/dir/index.html',
  qop: 'auth',
  nc: '00000001',
  md5: '8ca523f5e9506fed4657c9700eebdbec',
  sha256: '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
};
const RFC7616_CHALLENGE = (alg: string): string =>
  `Digest realm="${RFC7616.realm}", qop="auth, auth-int", algorithm=${alg}, nonce="${RFC7616.nonce}", opaque="${RFC7616.opaque}"`;

describe('Digest computation against the RFC examples', () => {
  it('reproduces RFC 7616 §3.9.1 for MD5 and SHA-256', () => {
    expect(digestResponse({ ...RFC7616, algorithm: 'MD5' })).toBe(RFC7616.md5);
    expect(digestResponse({ ...RFC7616, algorithm: 'SHA-256' })).toBe(RFC7616.sha256);
  });

  it('reproduces RFC 2617 §3.5 (MD5, no algorithm named)', () => {
    const r = digestResponse({
      algorithm: 'MD5',
      username: 'Mufasa',
      password: 'Circle Of Life',
      realm: 'testrealm@host.com',
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      method: 'GET',
      uri: '/dir/index.html',
      qop: 'auth',
      nc: '00000001',
      cnonce: '0a4f113b',
    });
    expect(r).toBe('6629fae49393a05397450978507c4ef1');
  });

  it('answers the RFC 7616 server (SHA-256 and MD5 offered) with SHA-256, and MD5 when only MD5 is offered', () => {
    const url = `http://${RFC7616.username}:${encodeURIComponent(RFC7616.password)}@www.example.org${RFC7616.uri}`;
    const both = new HttpCameraAuth(url, { cnonce: () => RFC7616.cnonce });
    expect(both.challenge(`${RFC7616_CHALLENGE('SHA-256')}, ${RFC7616_CHALLENGE('MD5')}`)).toBe(true);
    const sha = both.headers('GET', RFC7616.uri).authorization!;
    expect(sha).toContain(`response="${RFC7616.sha256}"`);
    expect(sha).toMatch(/^Digest username="Mufasa", realm="http-auth@example\.org", nonce="7ypf[^"]+", uri="\/dir\/index\.html", algorithm=SHA-256, /);
    expect(sha).toContain(`opaque="${RFC7616.opaque}"`);
    expect(sha).toContain(`qop=auth, nc=00000001, cnonce="${RFC7616.cnonce}"`);

    const md5 = new HttpCameraAuth(url, { cnonce: () => RFC7616.cnonce });
    md5.challenge(RFC7616_CHALLENGE('MD5'));
    expect(md5.headers('GET', RFC7616.uri).authorization).toContain(`response="${RFC7616.md5}"`);
    // The same nonce again: nc counts up, so the response changes.
    const second = md5.headers('GET', RFC7616.uri).authorization!;
    expect(second).toContain('nc=00000002');
    expect(second).not.toContain(RFC7616.md5);
  });
});

describe('HttpCameraAuth', () => {
  it('takes percent-decoded credentials from the URL and keeps them out of its url', () => {
    const auth = new HttpCameraAuth('http://op%40site:p%3Ass%20w%25rd@10.0.0.9:8080/snap.jpg?ch=1');
    expect(auth.url).toBe('http://10.0.0.9:8080/snap.jpg?ch=1');
    expect(auth.headers('GET', '/snap.jpg?ch=1')).toEqual({}); // nothing sent before the camera asks
    expect(auth.challenge('Basic realm="cam"')).toBe(true);
    expect(auth.headers('GET', '/snap.jpg?ch=1')).toEqual({ authorization: `Basic ${Buffer.from('op@site:p:ss w%rd').toString('base64')}` });
    expect(auth.redact('bad p:ss w%rd and p%3Ass%20w%25rd')).toBe('bad *** and ***');
  });

  it('says when retrying cannot help: no credentials, or the same credentials already refused', () => {
    expect(new HttpCameraAuth('http://cam/x').challenge('Basic realm="cam"')).toBe(false);
    const basic = new HttpCameraAuth('http://u:p@cam/x');
    expect(basic.challenge('Basic realm="cam"')).toBe(true);
    basic.headers('GET', '/x');
    expect(basic.challenge('Basic realm="cam"')).toBe(false);

    const digest = new HttpCameraAuth('http://u:p@cam/x');
    expect(digest.challenge('Digest realm="cam", nonce="n1", qop="auth"')).toBe(true);
    digest.headers('GET', '/x'); // first use of n1, refused:
    expect(digest.challenge('Digest realm="cam", nonce="n2", qop="auth"')).toBe(false);
    digest.headers('GET', '/x'); // first use of n2
    expect(digest.challenge('Digest realm="cam", nonce="n3", qop="auth", stale=true')).toBe(true); // stale: retry
    digest.headers('GET', '/x');
    digest.headers('GET', '/x'); // a reused nonce the camera dropped without saying stale: retry helps
    expect(digest.challenge('Digest realm="cam", nonce="n4", qop="auth"')).toBe(true);
  });

  it('parses several challenges in one header, quoted commas and escapes included', () => {
    const cs = parseChallenges('Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple, really", Digest realm="d", nonce=abc, qop="auth,auth-int"');
    expect(cs).toEqual([
      { scheme: 'newauth', params: { realm: 'apps', type: '1', title: 'Login to "apps"' } },
      { scheme: 'basic', params: { realm: 'simple, really' } },
      { scheme: 'digest', params: { realm: 'd', nonce: 'abc', qop: 'auth,auth-int' } },
    ]);
  });

  it('prefers Digest over Basic and refuses schemes it cannot do', () => {
    const auth = new HttpCameraAuth('http://u:p@cam/x');
    expect(auth.challenge('Basic realm="c", Digest realm="c", nonce="n", algorithm=MD5-sess, qop="auth"')).toBe(true);
    expect(auth.scheme).toBe('digest MD5-sess');
    const sha1 = new HttpCameraAuth('http://u:p@cam/x');
    expect(sha1.challenge('Digest realm="c", nonce="n", algorithm=SHA-1')).toBe(false);
    expect(sha1.refusal(401)).toBe('camera asks for an authentication lineside does not support (digest SHA-1; HTTP 401)');
    expect(new HttpCameraAuth('http://u:p@cam/x').challenge('Negotiate')).toBe(false);
    expect(new HttpCameraAuth('http://cam/x').refusal(401)).toMatch(/^camera asks for credentials \(HTTP 401\): put them in the URL/);
    expect(auth.refusal(403)).toBe('camera refused the credentials (HTTP 403)');
  });
});

type Algorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess';

/**
 * A Digest camera on loopback, checking responses with its own hashing (not the code under test):
 * fresh nonce per challenge, nc must increase, optional nonce expiry answered with stale=true.
 */
async function digestCamera(o: { user: string; pass: string; algorithm?: Algorithm; qop?: boolean; nonceUses?: number; basic?: boolean }) {
  const alg = o.algorithm ?? 'MD5';
  const nonces = new Map<string, { lastNc: number; uses: number }>();
  const seen = { requests: 0, ok: 0, stale: 0, ncs: [] as string[], authorization: [] as string[] };
  const H = (s: string): string => createHash(alg.startsWith('SHA-256') ? 'sha256' : 'md5').update(s).digest('hex');
  const challenge = (res: ServerResponse, stale = false): void => {
    const nonce = randomBytes(12).toString('base64');
    nonces.set(nonce, { lastNc: 0, uses: 0 });
    const h = o.basic
      ? 'Basic realm="cam"'
      : `Digest realm="cam@lineside", ${o.qop === false ? '' : 'qop="auth", '}algorithm=${alg}, nonce="${nonce}", opaque="op4que"${stale ? ', stale=true' : ''}`;
    res.writeHead(401, { 'www-authenticate': h, 'content-type': 'text/plain' }).end('unauthorized');
  };
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    seen.requests++;
    const header = req.headers.authorization ?? '';
    seen.authorization.push(header);
    if (o.basic) {
      if (header !== `Basic ${Buffer.from(`${o.user}:${o.pass}`).toString('base64')}`) return challenge(res);
      seen.ok++;
      return void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    }
    if (!header.startsWith('Digest ')) return challenge(res);
    const p: Record<string, string> = {};
    for (const m of header.slice(7).matchAll(/(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) p[m[1]!] = m[2] ?? m[3] ?? '';
    const n = nonces.get(p.nonce ?? '');
    if (!n) return challenge(res, true);
    if (o.nonceUses !== undefined && n.uses >= o.nonceUses) {
      seen.stale++;
      return challenge(res, true);
    }
    n.uses++;
    if (p.uri !== req.url || p.opaque !== 'op4que' || p.algorithm !== alg) return challenge(res);
    let ha1 = H(`${p.username}:cam@lineside:${o.pass}`);
    if (alg.endsWith('-sess')) ha1 = H(`${ha1}:${p.nonce}:${p.cnonce}`);
    const ha2 = H(`${req.method}:${req.url}`);
    let expected: string;
    if (o.qop === false) expected = H(`${ha1}:${p.nonce}:${ha2}`);
    else {
      const nc = parseInt(p.nc ?? '0', 16);
      if (p.qop !== 'auth' || !(nc > n.lastNc)) return challenge(res);
      n.lastNc = nc;
      seen.ncs.push(p.nc!);
      expected = H(`${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:auth:${ha2}`);
    }
    if (p.username !== o.user || p.response !== expected) return challenge(res);
    seen.ok++;
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  };
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { server, seen, url: (user: string, pass: string, path = '/cgi-bin/snapshot.cgi?channel=1') => `http://${user}:${encodeURIComponent(pass)}@127.0.0.1:${port}${path}` };
}

async function get(auth: HttpCameraAuth): Promise<number> {
  const res = await fetchWithAuth(auth);
  res.resume();
  return res.statusCode ?? 0;
}

describe('fetchWithAuth against a camera on loopback', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = undefined;
  });

  for (const algorithm of ['MD5', 'MD5-sess', 'SHA-256', 'SHA-256-sess'] as const) {
    it(`Digest ${algorithm}: answers the challenge once, then one request per GET with nc counting up`, async () => {
      const cam = await digestCamera({ user: 'admin', pass: 'Pa55:w0rd "x"', algorithm });
      server = cam.server;
      const auth = new HttpCameraAuth(cam.url('admin', 'Pa55:w0rd "x"'));
      expect([await get(auth), await get(auth), await get(auth)]).toEqual([200, 200, 200]);
      expect(cam.seen.requests).toBe(4);
      expect(cam.seen.ncs).toEqual(['00000001', '00000002', '00000003']);
      expect(cam.seen.authorization.join(' ')).not.toContain('Pa55');
    });
  }

  it('Digest without qop (RFC 2069 servers)', async () => {
    const cam = await digestCamera({ user: 'admin', pass: 'pw', qop: false });
    server = cam.server;
    const auth = new HttpCameraAuth(cam.url('admin', 'pw'));
    expect([await get(auth), await get(auth)]).toEqual([200, 200]);
    expect(cam.seen.requests).toBe(3);
  });

  it('a stale nonce is retried with the new one, without failing the request', async () => {
    const cam = await digestCamera({ user: 'admin', pass: 'pw', nonceUses: 2 });
    server = cam.server;
    const auth = new HttpCameraAuth(cam.url('admin', 'pw'));
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push(await get(auth));
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    expect(cam.seen.stale).toBe(2);
    expect(cam.seen.requests).toBe(2 + 1 + 2 + 1 + 2);
  });

  it('wrong password: 401 after one retry, and later GETs do not retry a refused password', async () => {
    const cam = await digestCamera({ user: 'admin', pass: 'right' });
    server = cam.server;
    const auth = new HttpCameraAuth(cam.url('admin', 'wrong'));
    expect(await get(auth)).toBe(401);
    expect(cam.seen.requests).toBe(2);
    expect(await get(auth)).toBe(401);
    expect(cam.seen.requests).toBe(3);
  });

  it('Basic: sent only after the camera asks, then with every request', async () => {
    const cam = await digestCamera({ user: 'op', pass: 's3cret', basic: true });
    server = cam.server;
    const auth = new HttpCameraAuth(cam.url('op', 's3cret'));
    expect([await get(auth), await get(auth)]).toEqual([200, 200]);
    expect(cam.seen.authorization[0]).toBe('');
    expect(cam.seen.requests).toBe(3);
  });

  it('an unreachable camera is "connection refused", not a stack of codes', async () => {
    const port = await freePort();
    const err = await fetchWithAuth(new HttpCameraAuth(`http://u:p@127.0.0.1:${port}/x`)).catch((e: unknown) => e);
    expect(networkReason(err)).toBe('connection refused');
  });
});
