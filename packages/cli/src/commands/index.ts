/**
 * Every command of the CLI, in the order `griot --help` lists them.
 */
import type { Command } from '../command';
import { agentCommand } from './agent';
import { contentGetCommand, contentLsCommand, contentPutCommand, contentRmCommand } from './content';
import { installCommand } from './install';
import { keygenCommand } from './keygen';
import { logsCommand } from './logs';
import { ownerAddCommand, ownerLsCommand, ownerRmCommand } from './owner';
import { packCommand } from './pack';
import { publishCommand } from './publish';
import { searchCommand, showCommand } from './search';
import { signCommand } from './sign';
import { tokenCommand } from './token';
import { unyankCommand, yankCommand } from './yank';

/** The commands. */
export const COMMANDS: readonly Command[] = [
  keygenCommand,
  packCommand,
  publishCommand,
  signCommand,
  searchCommand,
  showCommand,
  ownerLsCommand,
  ownerAddCommand,
  ownerRmCommand,
  yankCommand,
  unyankCommand,
  installCommand,
  logsCommand,
  agentCommand,
  tokenCommand,
  contentPutCommand,
  contentGetCommand,
  contentLsCommand,
  contentRmCommand,
];
