/**
 * A node's trust policy (`griot agent --trust FILE`): which author keys it
 * accepts for which package names.
 *
 * The file is JSON: `{"authors": {"<name or glob>": ["did:key:…", …]}}`. A
 * pattern is a package name, or a glob where `*` stands for any run of
 * characters (`/` included): `*` matches every name, `@acme/*` every name of
 * the scope, `lib*` every name that starts with `lib`. For a given name only
 * the most specific matching pattern counts (its authors are not merged with
 * those of broader patterns):
 *
 * 1. the exact name, when the policy lists it;
 * 2. else the glob with the longest literal prefix (the text before its first `*`);
 * 3. then the glob with the most literal characters;
 * 4. then the glob that sorts first (so the choice never depends on file order).
 *
 * A pattern with an empty list trusts nobody for the names it wins.
 */
import { readFile } from 'node:fs/promises';
import { parseDid } from '@griot/did';
import { CliError, ExitCode } from './cli-error';
import { isValidPackageName } from '@griot/client';

/** A validated trust policy. */
export interface TrustPolicy {
  /** Pattern → the did:keys trusted for the names it wins. */
  readonly authors: ReadonlyMap<string, readonly string[]>;
}

/** The pattern that decides for a name, and its authors. */
export interface TrustRule {
  /** The pattern as written in the file. */
  readonly pattern: string;
  /** The did:keys it trusts. */
  readonly authors: readonly string[];
}

/** A glob pattern: package name characters and at least one `*`. */
const GLOB = /^[@a-z0-9._/*-]+$/;

/** Thrown for an invalid policy; the message is the one line to print. */
export class TrustPolicyError extends CliError {
  /** @param message - What is wrong, naming the file and the entry. */
  constructor(message: string) {
    super(message, ExitCode.USAGE);
    this.name = 'TrustPolicyError';
  }
}

/**
 * Checks a parsed policy.
 *
 * @param json - The parsed JSON.
 * @param source - The file, for messages.
 * @throws {@link TrustPolicyError} naming the first entry at fault.
 */
export function parseTrustPolicy(json: unknown, source: string): TrustPolicy {
  const fail = (what: string): never => {
    throw new TrustPolicyError(`trust policy ${source}: ${what} (expected {"authors": {"<name or glob>": ["did:key:…"]}})`);
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return fail('must be a JSON object');
  const extra = Object.keys(json).filter((k) => k !== 'authors');
  if (extra.length > 0) fail(`unknown field ${JSON.stringify(extra[0])}`);
  const authors = (json as Record<string, unknown>)['authors'];
  if (typeof authors !== 'object' || authors === null || Array.isArray(authors)) return fail('"authors" must be an object of pattern → list of did:key');
  const out = new Map<string, string[]>();
  for (const [pattern, list] of Object.entries(authors as Record<string, unknown>)) {
    const at = `authors[${JSON.stringify(pattern)}]`;
    if (pattern.includes('*') ? !GLOB.test(pattern) : !isValidPackageName(pattern)) {
      fail(`${at}: ${JSON.stringify(pattern)} is neither a package name nor a glob of one (lowercase letters, digits, @ / . _ - and *)`);
    }
    if (!Array.isArray(list)) return fail(`${at} must be a list of did:key`);
    const dids: string[] = [];
    for (const [i, did] of list.entries()) {
      if (typeof did !== 'string') return fail(`${at}[${i}] must be a did:key string`);
      try {
        parseDid(did);
      } catch (err: unknown) {
        fail(`${at}[${i}]: ${JSON.stringify(did)} is not an Ed25519 did:key (${(err as Error).message})`);
      }
      if (!dids.includes(did)) dids.push(did);
    }
    out.set(pattern, dids);
  }
  return { authors: out };
}

/**
 * Reads and checks a policy file.
 *
 * @param path - The file.
 * @throws {@link TrustPolicyError} when it is missing, not JSON or invalid.
 */
export async function readTrustPolicy(path: string): Promise<TrustPolicy> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err: unknown) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new TrustPolicyError(`trust policy ${path}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err: unknown) {
    throw new TrustPolicyError(`trust policy ${path} is not valid JSON: ${(err as Error).message}`);
  }
  return parseTrustPolicy(json, path);
}

function globMatches(pattern: string, name: string): boolean {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`).test(name);
}

function literalPrefix(pattern: string): number {
  return pattern.indexOf('*');
}

function literalCount(pattern: string): number {
  return pattern.replaceAll('*', '').length;
}

/**
 * The rule that decides for a package name: the most specific matching
 * pattern (see the module comment), or undefined when none matches.
 *
 * @param policy - The policy.
 * @param name - A package name.
 */
export function ruleFor(policy: TrustPolicy, name: string): TrustRule | undefined {
  const exact = policy.authors.get(name);
  if (exact !== undefined) return { pattern: name, authors: exact };
  const globs = [...policy.authors.keys()].filter((p) => p.includes('*') && globMatches(p, name));
  globs.sort((a, b) => literalPrefix(b) - literalPrefix(a) || literalCount(b) - literalCount(a) || (a < b ? -1 : a > b ? 1 : 0));
  const best = globs[0];
  return best === undefined ? undefined : { pattern: best, authors: policy.authors.get(best)! };
}

/** Whether the policy trusts `author` for `name`, and the rule that decided. */
export function checkTrust(policy: TrustPolicy, name: string, author: string): { trusted: boolean; rule?: TrustRule } {
  const rule = ruleFor(policy, name);
  return { trusted: rule !== undefined && rule.authors.includes(author), rule };
}
