/**
 * Loads the configuration: schema defaults, then the region file (YAML; JSON is a YAML subset), then
 * `DELEGATO_*` environment variables, each overriding the previous. Environment variable names are
 * derived from the schema (`envVarFor`), never listed by hand.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { type Config, configSchema, settingTypes } from './schema.js';

/** A configuration problem; the message names the key path and where the value came from. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  /** Dotted key path (`port.smtp`), or '' when the problem concerns a whole file. */
  readonly key: string;
  /** The region file as given, or the environment variable, or undefined for built-in defaults. */
  readonly source: string | undefined;

  constructor(message: string, key = '', source?: string) {
    super(message);
    this.key = key;
    this.source = source;
  }
}

/** One leaf setting of the schema. */
export interface Setting {
  /** Dotted key path, e.g. `directory.retentionDays`. */
  path: string;
  /** Environment variable that sets it, e.g. `DELEGATO_DIRECTORY_RETENTION_DAYS`. */
  env: string;
  /** Human-readable type: `string`, `integer 0..65535`, `boolean`, `url`, `path`, `IP address`, enum values... */
  type: string;
  /** Built-in default, or undefined when the setting is optional. */
  default: unknown;
  description: string;
}

type Kind = 'string' | 'integer' | 'boolean';

interface Leaf extends Setting {
  segments: string[];
  /** How an environment string is converted. */
  kind: Kind;
  isPath: boolean;
}

const ENV_PREFIX = 'DELEGATO_';

/** `['directory', 'retentionDays']` -> `DELEGATO_DIRECTORY_RETENTION_DAYS`. */
export function envVarFor(path: string[]): string {
  return (
    ENV_PREFIX + path.map((segment) => segment.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_')
  );
}

/** Every leaf setting of the schema, in schema order. */
export function listSettings(): Setting[] {
  return leaves().map(({ path, env, type, default: fallback, description }) => ({
    path,
    env,
    type,
    default: fallback,
    description,
  }));
}

let cachedLeaves: Leaf[] | undefined;

function leaves(): Leaf[] {
  cachedLeaves ??= walk(configSchema, []);
  return cachedLeaves;
}

function walk(schema: z.ZodObject, prefix: string[]): Leaf[] {
  const result: Leaf[] = [];
  for (const [key, field] of Object.entries(schema.shape) as Array<[string, z.ZodType]>) {
    const segments = [...prefix, key];
    const description = field.description ?? '';
    let core: z.ZodType = field;
    let fallback: unknown;
    let label = settingTypes.get(field)?.type;
    // Peel wrappers: default / prefault (which carry the default) and optional.
    for (;;) {
      const def = core.def as { type: string; innerType?: z.ZodType; defaultValue?: unknown };
      if (def.type === 'default') fallback = def.defaultValue;
      if ((def.type === 'default' || def.type === 'prefault' || def.type === 'optional') && def.innerType) {
        core = def.innerType;
        label ??= settingTypes.get(core)?.type;
        continue;
      }
      break;
    }
    if (core.def.type === 'object') {
      result.push(...walk(core as z.ZodObject, segments));
      continue;
    }
    const { kind, type } = describeType(core, label, segments);
    result.push({
      path: segments.join('.'),
      segments,
      env: envVarFor(segments),
      type,
      kind,
      isPath: label === 'path',
      default: fallback,
      description,
    });
  }
  return result;
}

function describeType(
  core: z.ZodType,
  label: string | undefined,
  segments: string[],
): { kind: Kind; type: string } {
  const def = core.def as { type: string; entries?: Record<string, string> };
  switch (def.type) {
    case 'boolean':
      return { kind: 'boolean', type: 'boolean' };
    case 'number': {
      const number = core as z.ZodNumber;
      if (!number.isInt) break;
      const range =
        number.minValue !== null && number.maxValue !== null && Number.isSafeInteger(number.maxValue)
          ? ` ${number.minValue}..${number.maxValue}`
          : '';
      return { kind: 'integer', type: `integer${range}` };
    }
    case 'enum':
      return { kind: 'string', type: Object.values(def.entries ?? {}).join(' | ') };
    case 'pipe':
      // A setting with written forms of its own (federation.peers): the environment's string goes to the
      // schema as it is.
      if (label) return { kind: 'string', type: label };
      break;
    case 'string': {
      const format = (core as z.ZodString).format;
      if (format === 'url') return { kind: 'string', type: 'url' };
      return { kind: 'string', type: label ?? 'string' };
    }
  }
  throw new Error(`config schema: unsupported setting type '${def.type}' at ${segments.join('.')}`);
}

export interface LoadConfigOptions {
  /** Region file (YAML or JSON), relative to `cwd`; optional. */
  file?: string;
  /** Environment, usually `process.env`. */
  env: Record<string, string | undefined>;
  /** Directory against which relative paths (and `file`) are resolved. */
  cwd: string;
}

const BOOLEANS: Record<string, boolean> = {
  true: true,
  false: false,
  '1': true,
  '0': false,
  yes: true,
  no: false,
};

/** Load and validate the configuration; throws ConfigError. */
export function loadConfig(opts: LoadConfigOptions): Config {
  let merged: Record<string, unknown> = {};
  let fileDir: string | undefined;
  if (opts.file !== undefined) {
    const absolute = resolve(opts.cwd, opts.file);
    fileDir = dirname(absolute);
    merged = readRegionFile(opts.file, absolute);
  }

  const fromEnv = new Map<string, string>();
  for (const leaf of leaves()) {
    const raw = opts.env[leaf.env]?.trim();
    if (raw === undefined || raw === '') continue;
    // A file value of the wrong shape on the way (`port: 5`) is left for the schema to report.
    if (setAt(merged, leaf.segments, coerce(leaf, raw))) fromEnv.set(leaf.path, leaf.env);
  }

  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    // An issue inside a list setting (federation.peers.1.region) comes from that setting's source.
    const envOf = (key: string) =>
      [...fromEnv].find(([path]) => key === path || key.startsWith(`${path}.`))?.[1];
    throw issuesError(parsed.error.issues, (key) => envOf(key) ?? opts.file);
  }
  const config = parsed.data;

  for (const leaf of leaves()) {
    if (!leaf.isPath) continue;
    const value = getAt(config, leaf.segments);
    if (typeof value !== 'string') continue;
    const inFile = !fromEnv.has(leaf.path) && getAt(merged, leaf.segments) !== undefined;
    setAt(config, leaf.segments, resolve((inFile ? fileDir : undefined) ?? opts.cwd, value));
  }
  return config;
}

function readRegionFile(given: string, absolute: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' ? `file not found (${absolute})` : `cannot read file: ${(error as Error).message}`;
    throw new ConfigError(`${given}: ${reason}`, '', given);
  }
  const document = parseDocument(text, { prettyErrors: true });
  const [first] = document.errors;
  if (first) {
    throw new ConfigError(`${given}: invalid YAML: ${first.message}`, '', given);
  }
  const value: unknown = document.toJS();
  if (value === null || value === undefined) return {};
  if (!isPlainObject(value)) {
    throw new ConfigError(`${given}: the region file must be a mapping of settings (key: value)`, '', given);
  }
  return dropNulls(value);
}

/** In YAML `key:` with no value is null; treat it as "not set" so sections can be left empty. */
function dropNulls(value: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item === null) continue;
    result[key] = isPlainObject(item) ? dropNulls(item) : item;
  }
  return result;
}

function coerce(leaf: Leaf, raw: string): unknown {
  switch (leaf.kind) {
    case 'integer':
      if (/^[+-]?\d+$/.test(raw)) return Number(raw);
      throw new ConfigError(
        `${leaf.path}: Expected an integer, got "${raw}" (from ${leaf.env})`,
        leaf.path,
        leaf.env,
      );
    case 'boolean': {
      const value = BOOLEANS[raw.toLowerCase()];
      if (value !== undefined) return value;
      throw new ConfigError(
        `${leaf.path}: Expected true, false, 1, 0, yes or no, got "${raw}" (from ${leaf.env})`,
        leaf.path,
        leaf.env,
      );
    }
    case 'string':
      return raw;
  }
}

function issuesError(issues: z.core.$ZodIssue[], sourceOf: (key: string) => string | undefined): ConfigError {
  const problems: Array<{ key: string; source: string | undefined; line: string }> = [];
  for (const issue of issues) {
    const unknown = issue.code === 'unrecognized_keys';
    const keys = unknown ? issue.keys.map((key) => [...issue.path, key].join('.')) : [issue.path.join('.')];
    for (const key of keys) {
      const source = sourceOf(key);
      const text = unknown ? 'Unknown setting' : describeIssue(issue);
      let line = `${key}: ${text}`;
      if (source?.startsWith(ENV_PREFIX)) line = `${line} (from ${source})`;
      else if (source !== undefined) line = `${source}: ${line}`;
      problems.push({ key, source, line });
    }
  }
  return new ConfigError(
    problems.map((problem) => problem.line).join('\n'),
    problems[0]?.key,
    problems[0]?.source,
  );
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'too_big':
      if (issue.origin === 'number' || issue.origin === 'int') {
        return `Expected number ${issue.inclusive ? '≤' : '<'} ${issue.maximum}`;
      }
      return issue.message;
    case 'too_small':
      if (issue.origin === 'number' || issue.origin === 'int') {
        return `Expected number ${issue.inclusive ? '≥' : '>'} ${issue.minimum}`;
      }
      return issue.message;
    default:
      return issue.message;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function getAt(target: unknown, segments: string[]): unknown {
  let current: unknown = target;
  for (const segment of segments) {
    if (!isPlainObject(current)) return undefined;
    current = current[segment];
  }
  return current;
}

/** Set a nested value, creating missing objects; false (nothing set) when a non-object is in the way. */
function setAt(target: Record<string, unknown>, segments: string[], value: unknown): boolean {
  let current = target;
  for (const segment of segments.slice(0, -1)) {
    const next = current[segment];
    if (next === undefined) {
      const created: Record<string, unknown> = {};
      current[segment] = created;
      current = created;
    } else if (isPlainObject(next)) {
      current = next;
    } else {
      return false;
    }
  }
  const last = segments.at(-1);
  if (last === undefined) return false;
  current[last] = value;
  return true;
}
