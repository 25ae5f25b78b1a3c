/**
 * `@griot/cli`: the griot command line and the node agent, usable as a
 * library too (packing, safe extraction, uploads, the agent loop).
 *
 * @packageDocumentation
 */
export { runCli, helpText, DEFAULT_AUDIENCE, DEFAULT_CONTENT, DEFAULT_REGISTRY } from './cli';
export { CliError, ExitCode, type ExitCodeValue } from './cli-error';
export type { CliIo, Command, CommandContext } from './command';
export { packDirectory, collectPackEntries, PACK_MTIME, type PackEntry, type PackResult } from './pack';
export { safeExtract, normalizeEntryName, UnsafeArchiveError, DEFAULT_EXTRACT_LIMITS, type ExtractLimits, type ExtractSummary } from './safe-extract';
export { parseDescriptor, readDescriptor, type PackageDescriptor } from './griot-json';
export { hashFile, uploadFile, uploadIdFor, readContent } from './blob-transfer';
export { runAgent, runJob, installPackage, installPath, installRecordPath, checkAuthor, type AgentOptions, type InstallRecord } from './agent';
export { parseTrustPolicy, readTrustPolicy, ruleFor, checkTrust, TrustPolicyError, type TrustPolicy, type TrustRule } from './trust-policy';
