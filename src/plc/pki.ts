import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { OPCUACertificateManager } from 'node-opcua';

/**
 * The PLC link's PKI folder, as the `lineside pki` command sees it: node-opcua's layout (own/certs,
 * trusted/certs, rejected), moves done by node-opcua's certificate manager so its indexes agree.
 */
export type CertificateState = 'own' | 'trusted' | 'rejected';

export interface CertificateEntry {
  readonly state: CertificateState;
  readonly file: string;
  /** SHA-1 of the DER, lower-case hex: what OPC UA tools show. */
  readonly thumbprint: string;
  readonly subject: string;
  readonly validFrom: string;
  readonly validTo: string;
}

export function certificateInfo(pemOrDer: Buffer): Omit<CertificateEntry, 'state' | 'file'> & { der: Buffer } {
  const cert = new X509Certificate(pemOrDer);
  return {
    thumbprint: cert.fingerprint.replace(/:/g, '').toLowerCase(),
    subject: cert.subject.replace(/\n/g, ', '),
    validFrom: new Date(cert.validFrom).toISOString(),
    validTo: new Date(cert.validTo).toISOString(),
    der: cert.raw,
  };
}

const folders: Record<CertificateState, string> = { own: 'own/certs', trusted: 'trusted/certs', rejected: 'rejected' };

export async function listPki(pkiDir: string): Promise<CertificateEntry[]> {
  const entries: CertificateEntry[] = [];
  for (const [state, sub] of Object.entries(folders) as [CertificateState, string][]) {
    const dir = path.join(pkiDir, sub);
    for (const name of (await readdir(dir).catch(() => [] as string[])).sort()) {
      if (!/\.(pem|der|crt|cer)$/i.test(name)) continue;
      const file = path.join(dir, name);
      try {
        const { der: _der, ...info } = certificateInfo(await readFile(file));
        entries.push({ state, file, ...info });
      } catch {
        // Not a certificate (e.g. a CSR next to the own certificate): not listed.
      }
    }
  }
  return entries;
}

/** A thumbprint (with or without colons) of a certificate in the store, or a certificate file. */
async function resolveCertificate(pkiDir: string, ref: string): Promise<Buffer> {
  if (existsSync(ref)) return certificateInfo(await readFile(ref)).der;
  const wanted = ref.replace(/:/g, '').toLowerCase();
  const found = (await listPki(pkiDir)).filter((e) => e.state !== 'own' && e.thumbprint.startsWith(wanted));
  if (found.length === 0 || wanted.length < 8) throw new Error(`no certificate file and no certificate with thumbprint ${ref} in ${pkiDir} (lineside pki list shows them)`);
  const distinct = new Set(found.map((e) => e.thumbprint));
  if (distinct.size > 1) throw new Error(`thumbprint ${ref} matches ${distinct.size} certificates; give more digits`);
  return certificateInfo(await readFile(found[0]!.file)).der;
}

async function withStore<T>(pkiDir: string, action: (cm: OPCUACertificateManager) => Promise<T>): Promise<T> {
  const cm = new OPCUACertificateManager({ rootFolder: pkiDir, automaticallyAcceptUnknownCertificate: false, disableFileWatchers: true });
  await cm.initialize();
  try {
    return await action(cm);
  } finally {
    await cm.dispose();
  }
}

/** Moves the certificate to trusted/ (out of rejected/); returns its entry. */
export async function trustCertificate(pkiDir: string, ref: string): Promise<CertificateEntry> {
  const der = await resolveCertificate(pkiDir, ref);
  await withStore(pkiDir, (cm) => cm.trustCertificate(der));
  return entryOf(pkiDir, der, 'trusted');
}

/** Moves the certificate to rejected/ (out of trusted/); returns its entry. */
export async function rejectCertificate(pkiDir: string, ref: string): Promise<CertificateEntry> {
  const der = await resolveCertificate(pkiDir, ref);
  await withStore(pkiDir, (cm) => cm.rejectCertificate(der));
  return entryOf(pkiDir, der, 'rejected');
}

async function entryOf(pkiDir: string, der: Buffer, state: CertificateState): Promise<CertificateEntry> {
  const thumbprint = certificateInfo(der).thumbprint;
  const entry = (await listPki(pkiDir)).find((e) => e.thumbprint === thumbprint && e.state === state);
  if (entry === undefined) throw new Error(`certificate ${thumbprint} was not moved to ${state} in ${pkiDir}`);
  return entry;
}

export function formatEntry(e: CertificateEntry): string {
  return `${e.state.padEnd(8)} ${e.thumbprint}  ${e.subject}  valid ${e.validFrom.slice(0, 10)} to ${e.validTo.slice(0, 10)}`;
}
