import { readdir, readFile, stat } from 'node:fs/promises';
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

/** A store that never trusts an unknown certificate: it lands in rejected/ for `lineside pki trust`. */
export function linkCertificateManager(pkiDir: string): OPCUACertificateManager {
  return new OPCUACertificateManager({ rootFolder: pkiDir, automaticallyAcceptUnknownCertificate: false, disableFileWatchers: true });
}

/** The OPCUAClient options for this security, with the certificate manager they use. */
export function clientSecurityOptions(
  sec: PlcSecurity | undefined,
): Pick<OPCUAClientOptions, 'securityMode' | 'securityPolicy' | 'applicationName' | 'applicationUri'> & { clientCertificateManager?: OPCUACertificateManager } {
  if (sec === undefined || sec.mode === 'None') return { securityMode: MessageSecurityMode.None, securityPolicy: SecurityPolicy.None };
  return {
    securityMode: securityModes[sec.mode],
    securityPolicy: securityPolicies[sec.policy],
    clientCertificateManager: linkCertificateManager(sec.pkiDir),
    applicationName: APPLICATION_NAME,
    applicationUri: APPLICATION_URI,
  };
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
