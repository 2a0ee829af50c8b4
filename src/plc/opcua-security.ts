import { existsSync, statSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { OPCUAClientOptions, UserIdentityInfo } from 'node-opcua';
import { MessageSecurityMode, OPCUACertificateManager, SecurityPolicy, UserTokenType } from 'node-opcua';
import type { PlcConfig } from '../config/schema.js';
import { certificateInfo } from './pki.js';

/** The security the link asks of the PLC (`plc.security` in the config, resolved). */
export interface PlcSecurity {
  readonly mode: 'None' | 'Sign' | 'SignAndEncrypt';
  readonly policy: 'Basic256Sha256' | 'Aes128_Sha256_RsaOaep' | 'Aes256_Sha256_RsaPss';
  /** The client's PKI store: own/ (its certificate, created on first start), trusted/, rejected/. */
  readonly pkiDir: string;
  /** Absent: anonymous. The password is given, or read from `passwordFile` at connect time. */
  readonly user?: { readonly userName: string; readonly password?: string; readonly passwordFile?: string };
}

/** The link's security from the loaded config (load.ts has resolved pkiDir). */
export function plcSecurity(plc: PlcConfig): PlcSecurity {
  const { mode, policy, pkiDir, user } = plc.security;
  if (pkiDir === undefined) throw new Error('plc.security.pkiDir was not resolved; load the config with loadConfigFile/parseConfig');
  return { mode, policy, pkiDir, user };
}

export const securityModes = { None: MessageSecurityMode.None, Sign: MessageSecurityMode.Sign, SignAndEncrypt: MessageSecurityMode.SignAndEncrypt } as const;
export const securityPolicies = {
  Basic256Sha256: SecurityPolicy.Basic256Sha256,
  Aes128_Sha256_RsaOaep: SecurityPolicy.Aes128_Sha256_RsaOaep,
  Aes256_Sha256_RsaPss: SecurityPolicy.Aes256_Sha256_RsaPss,
} as const;

export const APPLICATION_NAME = 'lineside';
export const APPLICATION_URI = 'urn:lineside:plc-link';

/**
 * Links built without a security config (tests, bench) keep their certificate here rather than in
 * node-opcua's per-user default store, which every process on the box would share.
 */
export const DEFAULT_LINK_PKI_DIR = path.join(os.tmpdir(), 'lineside-plc-link-pki');

/** A store that never trusts an unknown certificate: it lands in rejected/ for `lineside pki trust`. */
export function linkCertificateManager(pkiDir: string): OPCUACertificateManager {
  return new OPCUACertificateManager({ rootFolder: pkiDir, automaticallyAcceptUnknownCertificate: false, disableFileWatchers: true });
}

/** The OPCUAClient options for this security, with the certificate manager they use. */
export function clientSecurityOptions(
  sec: PlcSecurity | undefined,
): Pick<OPCUAClientOptions, 'securityMode' | 'securityPolicy' | 'applicationName' | 'applicationUri'> & { clientCertificateManager: OPCUACertificateManager } {
  const secure = sec !== undefined && sec.mode !== 'None';
  return {
    securityMode: secure ? securityModes[sec.mode] : MessageSecurityMode.None,
    securityPolicy: secure ? securityPolicies[sec.policy] : SecurityPolicy.None,
    clientCertificateManager: linkCertificateManager(sec?.pkiDir ?? DEFAULT_LINK_PKI_DIR),
    applicationName: APPLICATION_NAME,
    applicationUri: APPLICATION_URI,
  };
}

const preparing = new Map<string, Promise<void>>();

/**
 * Creates the link's own certificate if the store has none, before node-opcua's client looks for
 * it. node-opcua creates it on connect too, but two clients of one process doing that at once on
 * the same store can hang for good (two links starting together on a fresh box did). Serialised
 * per folder here; across processes the store's own lock applies.
 */
export async function prepareOwnCertificate(cm: OPCUACertificateManager): Promise<void> {
  const file = path.join(cm.rootDir, 'own/certs/client_certificate.pem');
  const previous = preparing.get(cm.rootDir) ?? Promise.resolve();
  const mine = previous.then(async () => {
    await cm.initialize();
    if (existsSync(file) && statSync(file).size > 0) return;
    const host = os.hostname();
    await cm.createSelfSignedCertificate({
      applicationUri: APPLICATION_URI,
      dns: [host],
      outputFile: file,
      subject: `/CN=${APPLICATION_NAME}@${host}/O=lineside`,
      startDate: new Date(),
      validity: 365 * 10,
    });
  });
  preparing.set(cm.rootDir, mine.catch(() => undefined));
  await mine;
}

/** Puts a server certificate (DER) in the link's trusted/ folder, as `lineside pki trust` would. */
export async function trustServerCertificate(pkiDir: string, der: Buffer): Promise<void> {
  const cm = linkCertificateManager(pkiDir);
  await cm.initialize();
  await cm.trustCertificate(der);
}

/** The identity for createSession; the password file is read each time, so a changed secret applies on reconnect. */
export async function userIdentity(sec: PlcSecurity | undefined): Promise<UserIdentityInfo> {
  const user = sec?.user;
  if (user === undefined) return { type: UserTokenType.Anonymous };
  let password = user.password;
  if (password === undefined && user.passwordFile !== undefined) {
    try {
      password = (await readFile(user.passwordFile, 'utf8')).replace(/\r?\n$/, '');
    } catch (err) {
      throw new Error(`cannot read the PLC password file ${user.passwordFile}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
    }
  }
  return { type: UserTokenType.UserName, userName: user.userName, password: password ?? '' };
}

/** node-opcua's wording of a server certificate the client store does not trust. */
export function isUntrustedServerCertificate(err: unknown): boolean {
  return err instanceof Error && /server Certificate verification failed/i.test(err.message);
}

/** Names the newest certificate in rejected/ (where node-opcua put the PLC's) and how to trust it. */
export async function untrustedServerMessage(pkiDir: string, endpoint: string): Promise<string> {
  const rejected = path.join(pkiDir, 'rejected');
  let newest: { file: string; mtime: number } | undefined;
  for (const name of await readdir(rejected).catch(() => [] as string[])) {
    const file = path.join(rejected, name);
    const mtime = (await stat(file)).mtimeMs;
    if (newest === undefined || mtime > newest.mtime) newest = { file, mtime };
  }
  const head = `PLC certificate at ${endpoint} is not trusted`;
  if (newest === undefined) return `${head}; see ${rejected}`;
  const info = certificateInfo(await readFile(newest.file));
  return `${head}: ${info.subject} (thumbprint ${info.thumbprint}), now in ${rejected}; trust it with: lineside pki trust ${info.thumbprint} --pki-dir ${pkiDir} (then restart lineside)`;
}

/** Why the PLC refused the session's identity (never with the password), or undefined for other errors. */
export function userRefusedReason(err: unknown, sec: PlcSecurity | undefined): string | undefined {
  const status = err instanceof Error ? /Bad(UserAccessDenied|IdentityTokenRejected|IdentityTokenInvalid)/.exec(err.message)?.[0] : undefined;
  if (status === undefined) return undefined;
  const who = sec?.user?.userName;
  return `PLC refused ${who === undefined ? 'anonymous access' : `user "${who}"`}: wrong user name or password (${status})`;
}
