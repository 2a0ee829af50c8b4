import { createHash, randomBytes } from 'node:crypto';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';

/**
 * HTTP camera authentication, shared by the snapshot and MJPEG sources: credentials come from the
 * URL's user-info (`http://user:pass@cam/...`, percent-decoded) and are never shown. Basic and
 * Digest (RFC 7616, and RFC 2617/2069 servers without qop). Nothing is sent until the camera asks:
 * a Digest-only camera never sees the password in clear, and a known Digest nonce is reused (nc
 * counting up) so each request costs one round trip, not two.
 */

/** Digest algorithms understood, strongest first (picked when a camera offers several). */
const DIGEST_ALGORITHMS = ['SHA-512-256', 'SHA-256', 'MD5'] as const;
type DigestBase = (typeof DIGEST_ALGORITHMS)[number];
const HASH: Record<DigestBase, string> = { 'SHA-512-256': 'sha512-256', 'SHA-256': 'sha256', MD5: 'md5' };

export interface Challenge {
  /** Lower-case scheme: `basic`, `digest`, … */
  readonly scheme: string;
  /** Lower-case parameter names; values unquoted. */
  readonly params: Readonly<Record<string, string>>;
}

/** The challenges in a WWW-Authenticate value (several may share one header, comma-separated). */
export function parseChallenges(header: string): Challenge[] {
  const out: { scheme: string; params: Record<string, string> }[] = [];
  const s = header;
  let i = 0;
  const skip = (chars: RegExp): void => {
    while (i < s.length && chars.test(s[i]!)) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < s.length && /[!#$%&'*+.^_`|~0-9A-Za-z-]/.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  while (i < s.length) {
    skip(/[\s,]/);
    const scheme = token();
    if (!scheme) {
      i++;
      continue;
    }
    const ch = { scheme: scheme.toLowerCase(), params: {} as Record<string, string> };
    out.push(ch);
    for (;;) {
      skip(/[\s,]/);
      const at = i;
      const name = token();
      skip(/[ \t]/);
      if (!name || s[i] !== '=') {
        // Not a parameter: the next challenge's scheme (or a token68, which no camera scheme uses).
        i = at;
        if (!name) skip(/[^,]/);
        break;
      }
      i++;
      skip(/[ \t]/);
      let value = '';
      if (s[i] === '"') {
        i++;
        while (i < s.length && s[i] !== '"') {
          if (s[i] === '\\' && i + 1 < s.length) i++;
          value += s[i++];
        }
        i++;
      } else {
        const start = i;
        while (i < s.length && !/[\s,]/.test(s[i]!)) i++;
        value = s.slice(start, i);
      }
      ch.params[name.toLowerCase()] = value;
    }
  }
  return out;
}

export interface DigestInput {
  /** As the camera names it: MD5, MD5-sess, SHA-256, SHA-256-sess, SHA-512-256(-sess); case-insensitive. */
  readonly algorithm: string;
  readonly username: string;
  readonly password: string;
  readonly realm: string;
  readonly nonce: string;
  readonly method: string;
  readonly uri: string;
  /** `auth`, `auth-int` (bodyless requests), or absent for servers that offer no qop (RFC 2069). */
  readonly qop?: string;
  readonly nc?: string;
  readonly cnonce?: string;
}

/** The `response` value of a Digest Authorization header (RFC 7616 §3.4.1). */
export function digestResponse(d: DigestInput): string {
  const { base, sess } = digestAlgorithm(d.algorithm) ?? raise(`unsupported Digest algorithm ${d.algorithm}`);
  const H = (text: string): string => createHash(HASH[base]).update(text, 'utf8').digest('hex');
  let ha1 = H(`${d.username}:${d.realm}:${d.password}`);
  if (sess) ha1 = H(`${ha1}:${d.nonce}:${d.cnonce ?? ''}`);
  const ha2 = H(d.qop === 'auth-int' ? `${d.method}:${d.uri}:${H('')}` : `${d.method}:${d.uri}`);
  return d.qop ? H(`${ha1}:${d.nonce}:${d.nc}:${d.cnonce}:${d.qop}:${ha2}`) : H(`${ha1}:${d.nonce}:${ha2}`);
}

function digestAlgorithm(name: string): { base: DigestBase; sess: boolean } | null {
  const upper = name.toUpperCase();
  const sess = upper.endsWith('-SESS');
  const base = DIGEST_ALGORITHMS.find((a) => a === (sess ? upper.slice(0, -5) : upper));
  return base ? { base, sess } : null;
}

function raise(message: string): never {
  throw new Error(message);
}

interface DigestState {
  readonly algorithm: string;
  /** Whether the camera named the algorithm (echoed back only then, as old servers expect). */
  readonly named: boolean;
  readonly realm: string;
  readonly nonce: string;
  readonly opaque: string | undefined;
  readonly qop: 'auth' | 'auth-int' | undefined;
  readonly userhash: boolean;
  readonly cnonce: string;
  nc: number;
}

type Picked = { kind: 'basic' } | { kind: 'digest'; state: DigestState; stale: boolean };

export interface HttpCameraAuthOptions {
  /** Client nonce generator (tests pin it to reproduce published examples). */
  readonly cnonce?: () => string;
}

export class HttpCameraAuth {
  /** The URL without its user-info: what is requested, and safe to show. */
  readonly url: string;
  readonly #user: string | null;
  readonly #pass: string;
  readonly #cnonce: () => string;
  #scheme: { kind: 'basic' } | { kind: 'digest'; state: DigestState } | null = null;
  /** What the last request carried: nothing, Basic, or Digest on a nonce's first (fresh) or a later use. */
  #lastSent: 'none' | 'basic' | 'fresh' | 'reused' = 'none';
  #unsupported: string | null = null;

  constructor(url: string, opts: HttpCameraAuthOptions = {}) {
    const u = new URL(url);
    this.#user = u.username || u.password ? decode(u.username) : null;
    this.#pass = decode(u.password);
    u.username = '';
    u.password = '';
    this.url = u.toString();
    this.#cnonce = opts.cnonce ?? (() => randomBytes(16).toString('hex'));
  }

  get hasCredentials(): boolean {
    return this.#user !== null;
  }

  /** The scheme in use once the camera has asked, for logs: `basic`, `digest MD5`, or null. */
  get scheme(): string | null {
    if (!this.#scheme) return null;
    return this.#scheme.kind === 'basic' ? 'basic' : `digest ${this.#scheme.state.algorithm}`;
  }

  /** After a 401 whose challenges offer nothing usable: what was offered (e.g. `digest SHA-1`); else null. */
  get unsupported(): string | null {
    return this.#unsupported;
  }

  /** Why the camera's final 401/403 stopped the request, in words for the page. */
  refusal(status: number): string {
    if (status === 401 && !this.hasCredentials) return 'camera asks for credentials (HTTP 401): put them in the URL (http://user:password@host/...)';
    if (status === 401 && this.#unsupported) return `camera asks for an authentication lineside does not support (${this.#unsupported}; HTTP 401)`;
    return `camera refused the credentials (HTTP ${status})`;
  }

  /** Replaces the password (raw, percent-encoded, and as Basic base64) with *** in a message. */
  redact(text: string): string {
    let out = text;
    if (this.#pass) {
      const forms = [this.#pass, encodeURIComponent(this.#pass), Buffer.from(`${this.#user}:${this.#pass}`).toString('base64')];
      for (const f of forms) out = out.split(f).join('***');
    }
    return out.replace(/(\w+:\/\/)[^\s/@]*@/g, '$1***@');
  }

  /** Headers for the next request: none until the camera has asked for credentials. */
  headers(method: string, uri: string): Record<string, string> {
    const scheme = this.#scheme;
    if (!scheme || this.#user === null) {
      this.#lastSent = 'none';
      return {};
    }
    if (scheme.kind === 'basic') {
      this.#lastSent = 'basic';
      return { authorization: `Basic ${Buffer.from(`${this.#user}:${this.#pass}`, 'utf8').toString('base64')}` };
    }
    const st = scheme.state;
    st.nc++;
    this.#lastSent = st.nc === 1 ? 'fresh' : 'reused';
    return { authorization: this.#digestHeader(st, method, uri) };
  }

  /**
   * After a 401: learns the camera's challenge. Returns true when retrying can help (first
   * challenge, or a stale nonce); false when there are no credentials, no supported scheme, or
   * these credentials were just refused.
   */
  challenge(wwwAuthenticate: string | undefined, sent: 'none' | 'basic' | 'fresh' | 'reused' = this.#lastSent): boolean {
    if (this.#user === null) return false;
    const offered = parseChallenges(wwwAuthenticate ?? '');
    const picked = this.#pick(offered);
    this.#unsupported = picked ? null : offered.map((c) => (c.params.algorithm ? `${c.scheme} ${c.params.algorithm}` : c.scheme)).join(', ') || 'no scheme named';
    if (!picked) return false;
    // Judged on what the refused request itself carried: another request may have gone out since.
    const refused = sent === 'basic' || sent === 'fresh';
    this.#scheme = picked.kind === 'basic' ? picked : { kind: 'digest', state: picked.state };
    return (picked.kind === 'digest' && picked.stale) || !refused;
  }

  /** Headers for one request, with what they carried, for judging that request's 401. */
  prepare(method: string, uri: string): { headers: Record<string, string>; sent: 'none' | 'basic' | 'fresh' | 'reused' } {
    const headers = this.headers(method, uri);
    return { headers, sent: this.#lastSent };
  }

  /** After a success: a Digest `Authentication-Info: nextnonce=…` moves on to that nonce. */
  accepted(authenticationInfo: string | undefined): void {
    const scheme = this.#scheme;
    if (!authenticationInfo || scheme?.kind !== 'digest') return;
    const next = parseChallenges(`x ${authenticationInfo}`)[0]?.params.nextnonce;
    if (next && next !== scheme.state.nonce) this.#scheme = { kind: 'digest', state: { ...scheme.state, nonce: next, cnonce: this.#cnonce(), nc: 0 } };
  }

  #pick(challenges: Challenge[]): Picked | null {
    let best: { rank: number; picked: Picked } | null = null;
    for (const c of challenges) {
      if (c.scheme === 'basic') {
        if (!best) best = { rank: DIGEST_ALGORITHMS.length, picked: { kind: 'basic' } };
        continue;
      }
      if (c.scheme !== 'digest' || !c.params.nonce) continue;
      const named = c.params.algorithm !== undefined;
      const algorithm = c.params.algorithm ?? 'MD5';
      const alg = digestAlgorithm(algorithm);
      const qop = pickQop(c.params.qop);
      if (!alg || qop === null) continue;
      const rank = DIGEST_ALGORITHMS.indexOf(alg.base);
      if (best && best.rank <= rank) continue;
      const state: DigestState = {
        algorithm,
        named,
        realm: c.params.realm ?? '',
        nonce: c.params.nonce,
        opaque: c.params.opaque,
        qop,
        userhash: c.params.userhash?.toLowerCase() === 'true',
        cnonce: this.#cnonce(),
        nc: 0,
      };
      best = { rank, picked: { kind: 'digest', state, stale: c.params.stale?.toLowerCase() === 'true' } };
    }
    return best?.picked ?? null;
  }

  #digestHeader(st: DigestState, method: string, uri: string): string {
    const user = this.#user ?? '';
    const alg = digestAlgorithm(st.algorithm)!;
    const nc = st.nc.toString(16).padStart(8, '0');
    const response = digestResponse({ algorithm: st.algorithm, username: user, password: this.#pass, realm: st.realm, nonce: st.nonce, method, uri, qop: st.qop, nc, cnonce: st.cnonce });
    const parts: string[] = [];
    if (st.userhash) parts.push(`username="${createHash(HASH[alg.base]).update(`${user}:${st.realm}`).digest('hex')}"`);
    // RFC 7616 §3.4.4: a name that cannot go in a quoted string is sent as username*.
    else if (/[^\x20-\x7e]/.test(user)) parts.push(`username*=UTF-8''${encodeURIComponent(user)}`);
    else parts.push(`username="${quote(user)}"`);
    parts.push(`realm="${quote(st.realm)}"`, `nonce="${quote(st.nonce)}"`, `uri="${quote(uri)}"`);
    if (st.named) parts.push(`algorithm=${st.algorithm}`);
    parts.push(`response="${response}"`);
    if (st.opaque !== undefined) parts.push(`opaque="${quote(st.opaque)}"`);
    if (st.qop) parts.push(`qop=${st.qop}`, `nc=${nc}`, `cnonce="${quote(st.cnonce)}"`);
    if (st.userhash) parts.push('userhash=true');
    return `Digest ${parts.join(', ')}`;
  }
}

/** `auth` when offered, else `auth-int` (bodyless GETs only), undefined without qop, null if none usable. */
function pickQop(offer: string | undefined): 'auth' | 'auth-int' | undefined | null {
  if (offer === undefined) return undefined;
  const list = offer.split(',').map((q) => q.trim().toLowerCase());
  if (list.includes('auth')) return 'auth';
  if (list.includes('auth-int')) return 'auth-int';
  return null;
}

function quote(s: string): string {
  return s.replace(/[\\"]/g, '\\$&');
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export interface CameraRequest {
  readonly signal?: AbortSignal;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * GETs `auth.url`, answering one 401 challenge by retrying with the credentials. Resolves with the
 * final response whatever its status (the caller reads or drains the body); rejects on network
 * failure or abort (see `networkReason`).
 */
export async function fetchWithAuth(auth: HttpCameraAuth, init: CameraRequest = {}): Promise<IncomingMessage> {
  const target = new URL(auth.url);
  const uri = `${target.pathname}${target.search}`;
  const send = async (): Promise<{ res: IncomingMessage; sent: ReturnType<HttpCameraAuth['prepare']>['sent'] }> => {
    const { headers, sent } = auth.prepare('GET', uri);
    return { res: await httpGet(target, { ...init.headers, ...headers }, init.signal), sent };
  };
  let { res, sent } = await send();
  if (res.statusCode === 401 && auth.challenge(wwwAuthenticate(res), sent)) {
    res.resume();
    ({ res, sent } = await send());
    // Learn the newest challenge even when giving up, so the next request starts from it.
    if (res.statusCode === 401) auth.challenge(wwwAuthenticate(res), sent);
  }
  if (res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300) {
    const info = res.headers['authentication-info'];
    auth.accepted(Array.isArray(info) ? info[0] : info);
  }
  return res;
}

function wwwAuthenticate(res: IncomingMessage): string | undefined {
  return res.headersDistinct['www-authenticate']?.join(', ');
}

/**
 * One GET. A keep-alive socket the camera closed just as it was reused fails with ECONNRESET
 * before any answer; that request is repeated once on a new socket.
 */
export function httpGet(url: URL, headers: Record<string, string>, signal?: AbortSignal, retried = false): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.request(url, { method: 'GET', headers, signal }, resolve);
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (!retried && req.reusedSocket && e.code === 'ECONNRESET' && !signal?.aborted) resolve(httpGet(url, headers, signal, true));
      else reject(e);
    });
    req.end();
  });
}

/** A network failure in words an operator can act on ("connection refused", not "ECONNREFUSED"). */
export function networkReason(e: unknown): string {
  const err = e as NodeJS.ErrnoException | undefined;
  switch (err?.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host name not found';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    case 'ETIMEDOUT':
      return 'connection timed out';
    case 'ECONNRESET':
      return 'connection reset by the camera';
    case 'EPIPE':
      return 'connection closed by the camera';
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'CERT_HAS_EXPIRED':
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `camera's TLS certificate not trusted (${err.code})`;
    default:
      return err?.message || String(e);
  }
}
