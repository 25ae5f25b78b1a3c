/**
 * `@griot/cli`: the griot command line and the node agent, usable as a
 * library too (safe extraction, the agent loop). Packing, uploads, reads and
 * publishing are `@griot/client`'s.
 *
 * @packageDocumentation
 */
export { runCli, helpText, DEFAULT_AUDIENCE, DEFAULT_CONTENT, DEFAULT_REGISTRY } from './cli';
export { CliError, ExitCode, type ExitCodeValue } from './cli-error';
export type { CliIo, Command, CommandContext } from './command';
export { safeExtract, normalizeEntryName, UnsafeArchiveError, DEFAULT_EXTRACT_LIMITS, type ExtractLimits, type ExtractSummary } from './safe-extract';
export { uploadFile, readContent } from './blob-transfer';
export { runAgent, runJob, installPackage, installPath, installRecordPath, checkAuthor, type AgentOptions, type InstallRecord } from './agent';
export { parseTrustPolicy, readTrustPolicy, ruleFor, checkTrust, TrustPolicyError, type TrustPolicy, type TrustRule } from './trust-policy';
