import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { ErrorCode, LinesideError } from '../domain/errors.js';
import { checkRecipes } from './recipes.js';
import { configSchema, type Config, type SourceConfig } from './schema.js';

/**
 * The only reader of YAML and process.env. Produces a frozen Config with every path absolute, or
 * throws LINESIDE_ERR_CONFIG with a message that names the station and the key.
 */
export interface ConfigOverrides {
  /** Absolute data directory (from the command line). */
  readonly dataDir?: string;
  readonly httpPort?: number;
  readonly httpHost?: string;
}

export function loadConfigFile(file: string, overrides: ConfigOverrides = {}): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new LinesideError(ErrorCode.config, `${file}: cannot read config file (${(cause as Error).message})`, { cause });
  }
  let raw: unknown;
  try {
    raw = parseYaml(text, { prettyErrors: true });
  } catch (cause) {
    const where = cause instanceof YAMLParseError && cause.linePos ? ` at line ${cause.linePos[0].line}` : '';
    throw new LinesideError(ErrorCode.config, `${file}: not valid YAML${where}: ${(cause as Error).message.split('\n')[0]}`, { cause });
  }
  if (Object.values(overrides).some((v) => v !== undefined)) {
    const obj = (raw ?? {}) as Record<string, unknown>;
    if (typeof obj !== 'object' || Array.isArray(obj)) throw new LinesideError(ErrorCode.config, `${file}: (top level): expected a mapping`);
    if (overrides.dataDir !== undefined) obj.dataDir = overrides.dataDir;
    if (overrides.httpPort !== undefined) obj.http = { ...((obj.http as object | undefined) ?? {}), port: overrides.httpPort };
    if (overrides.httpHost !== undefined) obj.http = { ...((obj.http as object | undefined) ?? {}), host: overrides.httpHost };
    raw = obj;
  }
  return parseConfig(raw, dirname(resolve(file)), file);
}

/** Validate an already-parsed value; relative paths resolve against `baseDir`. */
export function parseConfig(raw: unknown, baseDir: string, label = 'config'): Config {
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    throw new LinesideError(ErrorCode.config, `${label}: ${describeIssues(parsed.error.issues, raw)}`, {
      details: { issues: parsed.error.issues.length },
    });
  }
  const cfg = parsed.data;
  crossCheck(cfg, label);
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(baseDir, p));
  const resolved: Config = {
    ...cfg,
    dataDir: abs(cfg.dataDir),
    http: { ...cfg.http, tls: cfg.http.tls && { certFile: abs(cfg.http.tls.certFile), keyFile: abs(cfg.http.tls.keyFile) } },
    plc: resolvePlcPaths(cfg, abs),
    models: Object.fromEntries(
      Object.entries(cfg.models).map(([k, m]) => [k, { ...m, path: abs(m.path), manifest: m.manifest ? abs(m.manifest) : undefined }]),
    ),
    stations: cfg.stations.map((s) => ({ ...s, source: resolveSourcePaths(s.source, abs), ...(s.kind === 'cleaning' && s.residue ? { residue: resolveResiduePaths(s.residue, abs) } : {}) })),
    scada: { ...cfg.scada, pkiDir: abs(cfg.scada.pkiDir ?? join(cfg.dataDir, 'scada-pki')) },
    records: cfg.records.backup ? { ...cfg.records, backup: { ...cfg.records.backup, dir: abs(cfg.records.backup.dir) } } : cfg.records,
  };
  return deepFreeze(resolved);
}

/** The PKI folder defaults to `<dataDir>/pki`; it and the password file are relative to the config file. */
function resolvePlcPaths(cfg: Config, abs: (p: string) => string): Config['plc'] {
  const sec = cfg.plc.security;
  const user = sec.user && { ...sec.user, passwordFile: sec.user.passwordFile === undefined ? undefined : abs(sec.user.passwordFile) };
  return { ...cfg.plc, security: { ...sec, pkiDir: abs(sec.pkiDir ?? join(cfg.dataDir, 'pki')), user } };
}

/** Folder and file paths in a source are relative to the config file. */
/** A cleaning station's reference images, relative to the config file like every path. */
function resolveResiduePaths<R extends { reference?: string; references: Record<string, string> }>(r: R, abs: (p: string) => string): R {
  return { ...r, ...(r.reference ? { reference: abs(r.reference) } : {}), references: Object.fromEntries(Object.entries(r.references).map(([k, v]) => [k, abs(v)])) };
}

function resolveSourcePaths(src: SourceConfig, abs: (p: string) => string): SourceConfig {
  switch (src.type) {
    case 'replay':
      return { ...src, path: abs(src.path) };
    case 'folder':
      return { ...src, path: abs(src.path), processedPath: src.processedPath ? abs(src.processedPath) : undefined };
    default:
      return src;
  }
}

/** Rules the schema cannot express alone. */
function crossCheck(cfg: Config, label: string): void {
  const seen = new Set<string>();
  for (const s of cfg.stations) {
    if (seen.has(s.id)) throw new LinesideError(ErrorCode.config, `${label}: station "${s.id}": id: duplicate station id`);
    seen.add(s.id);
    if (!(s.model in cfg.models)) {
      const known = Object.keys(cfg.models).join(', ') || 'none';
      throw new LinesideError(ErrorCode.config, `${label}: station "${s.id}": model: "${s.model}" is not defined under models (defined: ${known})`);
    }
    if (s.secondStage && !(s.secondStage.model in cfg.models)) {
      const known = Object.keys(cfg.models).join(', ') || 'none';
      throw new LinesideError(ErrorCode.config, `${label}: station "${s.id}": secondStage.model: "${s.secondStage.model}" is not defined under models (defined: ${known})`);
    }
    if (s.alongside && !(s.alongside.model in cfg.models)) {
      const known = Object.keys(cfg.models).join(', ') || 'none';
      throw new LinesideError(ErrorCode.config, `${label}: station "${s.id}": alongside.model: "${s.alongside.model}" is not defined under models (defined: ${known})`);
    }
    if (s.kind === 'zone' && s.privacy.faceModel !== undefined && !(s.privacy.faceModel in cfg.models)) {
      const known = Object.keys(cfg.models).join(', ') || 'none';
      throw new LinesideError(ErrorCode.config, `${label}: station "${s.id}": privacy.faceModel: "${s.privacy.faceModel}" is not defined under models (defined: ${known})`);
    }
    for (const [cls, r] of Object.entries(s.rules.classes)) {
      if (r.reject !== undefined && r.inconclusive !== undefined && r.inconclusive > r.reject) {
        throw new LinesideError(
          ErrorCode.config,
          `${label}: station "${s.id}": rules.classes.${cls}.inconclusive: ${r.inconclusive} must not exceed reject (${r.reject})`,
        );
      }
    }
  }
  checkRecipes(cfg, label);
  checkScadaPort(cfg, label);
  for (const simId of Object.keys(cfg.plc.simulate?.stations ?? {})) {
    if (!seen.has(simId)) throw new LinesideError(ErrorCode.config, `${label}: plc.simulate.stations.${simId}: no station with this id`);
  }
}

/** The SCADA server's port must not be one the appliance already listens on. */
function checkScadaPort(cfg: Config, label: string): void {
  const { enabled, port } = cfg.scada;
  if (!enabled || port === 0) return;
  if (port === cfg.http.port) throw new LinesideError(ErrorCode.config, `${label}: scada.port: ${port} is also http.port; give the OPC UA server a port of its own`);
  const simPort = Number(new URL(cfg.plc.endpoint.replace(/^opc\.tcp:/, 'http:')).port || 4840);
  if (cfg.plc.simulate && port === simPort) {
    throw new LinesideError(ErrorCode.config, `${label}: scada.port: ${port} is the simulated PLC's port (plc.endpoint); give the OPC UA server a port of its own`);
  }
}

function describeIssues(issues: readonly z.core.$ZodIssue[], raw: unknown): string {
  const first = issues[0];
  if (!first) return 'invalid';
  const msg = describeIssue(first, raw);
  return issues.length > 1 ? `${msg} (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : msg;
}

function describeIssue(issue: z.core.$ZodIssue, raw: unknown): string {
  const path = [...issue.path];
  let where = '';
  if (path[0] === 'stations' && typeof path[1] === 'number') {
    const st = (raw as { stations?: Array<{ id?: unknown }> } | undefined)?.stations?.[path[1]];
    const stationName = st && typeof st.id === 'string' ? `"${st.id}"` : `#${path[1] + 1}`;
    where = `station ${stationName}: `;
    path.splice(0, 2);
  }
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys;
    message = `unknown key${keys.length > 1 ? 's' : ''} ${keys.map((k) => `"${k}"`).join(', ')}`;
  }
  // A bad key of a mapping (e.g. a recipe index): say what the key must be, not only that it is bad.
  if (issue.code === 'invalid_key' && issue.issues[0]) message = `key: ${issue.issues[0].message}`;
  const key = path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[');
  return `${where}${key || '(top level)'}: ${message}`;
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const child of Object.values(v as Record<string, unknown>)) deepFreeze(child);
  }
  return v;
}
