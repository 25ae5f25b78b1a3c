/**
 * Every command of the CLI, in the order `griot --help` lists them.
 */
import type { Command } from '../command';
import { agentCommand } from './agent';
import { completionCommand } from './completion';
import { contentGetCommand, contentLsCommand, contentPutCommand, contentRmCommand } from './content';
import { installCommand } from './install';
import { jobsCancelCommand, jobsLsCommand } from './jobs';
import { keygenCommand } from './keygen';
import { logsCommand } from './logs';
import { ownerAddCommand, ownerLsCommand, ownerRmCommand } from './owner';
import { packCommand } from './pack';
import { publishCommand } from './publish';
import { searchCommand, showCommand } from './search';
import { signCommand } from './sign';
import { tokenCommand } from './token';
import { unyankCommand, yankCommand } from './yank';
import { verifyCommand } from './verify';

/** The commands. */
export const COMMANDS: readonly Command[] = [
  keygenCommand,
  packCommand,
  publishCommand,
  signCommand,
  verifyCommand,
  searchCommand,
  showCommand,
  ownerLsCommand,
  ownerAddCommand,
  ownerRmCommand,
  yankCommand,
  unyankCommand,
  installCommand,
  jobsLsCommand,
  jobsCancelCommand,
  logsCommand,
  agentCommand,
  tokenCommand,
  contentPutCommand,
  contentGetCommand,
  contentLsCommand,
  contentRmCommand,
  completionCommand,
];
