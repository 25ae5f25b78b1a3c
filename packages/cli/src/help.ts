/**
 * Help text of each command (its options one line each, and an example), and
 * the bash and zsh completion scripts, all made from the command table.
 */
import type { Command } from './command';

/** What an option does, by option name; a command may override one in {@link COMMAND_OPTION_HELP}. */
export const OPTION_HELP: Readonly<Record<string, string>> = {
  key: "the caller's key file (or GRIOT_KEY)",
  node: "the node's key file",
  follow: 'follow the job until it ends',
  output: 'the file to write',
  out: 'the file to write',
  force: 'overwrite an existing file',
  tag: 'a tag key=value (repeatable)',
  all: 'every manifest, not only files put with griot content put',
  limit: 'the most rows to print',
  reason: 'why, kept by the registry',
  target: 'the did:key of the node that installs it',
  root: 'the folder packages are installed under',
  trust: 'a trust policy file: which authors and names the node accepts',
  once: 'run at most one job, then exit',
  'wait-ms': 'how long one claim waits for a job, in milliseconds (default 10000)',
  ttl: 'the token lifetime in seconds, 1 to 300 (default 60)',
  name: 'only this package name',
  version: 'only this version',
  author: "only this author's did:key",
  class: 'only this node class',
  where: 'a JSON object the manifest must contain',
  yanked: 'include yanked versions',
  status: 'only jobs in this status: pending, running, completed, failed or cancelled',
  'dry-run': 'pack, sign and check, print what would be published, upload nothing',
};

/** Per-command option descriptions that differ from {@link OPTION_HELP}. */
const COMMAND_OPTION_HELP: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  keygen: { out: 'the key file to create (mode 0600)' },
  sign: { out: 'the signed artifact to write' },
  'jobs ls': { node: "only jobs for this node: its did:key, or its key file (then also the caller)" },
  token: { node: "sign with this node's key file instead of --key" },
};

/** An example of each command. */
export const EXAMPLES: Readonly<Record<string, string>> = {
  keygen: 'griot keygen --out author.key',
  pack: 'griot pack ./hello -o hello.tgz',
  publish: 'griot publish ./hello --key author.key',
  sign: 'griot sign ./hello --key author.key -o hello.tgz',
  verify: 'griot verify hello@1.0.0',
  search: 'griot search --name hello --json',
  show: 'griot show hello@1.0.0',
  'owner ls': 'griot owner ls hello',
  'owner add': 'griot owner add hello did:key:z6Mk... --key author.key',
  'owner rm': 'griot owner rm hello did:key:z6Mk... --key author.key',
  yank: 'griot yank hello@1.0.0 --key author.key --reason "broken"',
  unyank: 'griot unyank hello@1.0.0 --key author.key',
  install: 'griot install hello@1.0.0 --node node.key --follow',
  'jobs ls': 'griot jobs ls --status pending --key operator.key',
  'jobs cancel': 'griot jobs cancel 0f8e... --key operator.key',
  logs: 'griot logs 0f8e... -f --node node.key',
  agent: 'griot agent --node node.key --root /var/lib/griot --trust trust.json',
  token: 'griot token --key author.key --ttl 120',
  'content put': 'griot content put data.bin --key author.key --tag env=prod',
  'content get': 'griot content get 6a1c... -o data.bin',
  'content ls': 'griot content ls --tag env=prod',
  'content rm': 'griot content rm 6a1c... --key author.key',
  completion: 'griot completion bash > /etc/bash_completion.d/griot',
};

/** The global options, one line each, for `griot --help` and each command's help. */
export const GLOBAL_OPTION_LINES: readonly string[] = [
  '  --registry HOST:PORT   the registry (GRIOT_REGISTRY, default 127.0.0.1:50051)',
  '  --content HOST:PORT    the content store (GRIOT_CONTENT, default 127.0.0.1:50052)',
  '  --audience NAME        audience of registry tokens, and of griot token (GRIOT_AUDIENCE, default griot-registry)',
  '  --tls-ca FILE          PEM CA of the services: connect with TLS (GRIOT_TLS_CA)',
  '  --tls-cert FILE        PEM client certificate, for mutual TLS (GRIOT_TLS_CERT)',
  '  --tls-key FILE         PEM key of --tls-cert (GRIOT_TLS_KEY)',
  '  --json                 machine-readable output on stdout',
  '  --verbose              print the cause of errors',
  '  -h, --help             this help',
];

/** One line per option of a command: `  -k, --key FILE   description`. */
export function optionLines(command: Command): string[] {
  const rows = Object.entries(command.options).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.type === 'string' ? ' VALUE' : ''}${spec.multiple ? '...' : ''}`;
    const text = COMMAND_OPTION_HELP[command.name]?.[name] ?? OPTION_HELP[name] ?? '';
    return [flag, text] as const;
  });
  const width = Math.max(0, ...rows.map(([f]) => f.length));
  return rows.map(([f, t]) => `  ${f.padEnd(width)}  ${t}`.trimEnd());
}

/** The text of `griot COMMAND --help` and `griot help COMMAND`. */
export function commandHelp(command: Command): string {
  const options = optionLines(command);
  return [
    `usage: griot ${command.usage}`,
    '',
    command.summary,
    '',
    'options:',
    ...(options.length > 0 ? options : ['  (none but the global ones)']),
    '',
    'global options:',
    ...GLOBAL_OPTION_LINES,
    '',
    'example:',
    `  ${EXAMPLES[command.name] ?? `griot ${command.usage}`}`,
  ].join('\n');
}

/** Every option a command line may hold, for completion: the command's, then the global ones. */
function optionWords(command: Command | undefined, globals: readonly string[]): string[] {
  return [...Object.keys(command?.options ?? {}).map((n) => `--${n}`), ...globals.map((n) => `--${n}`)];
}

/**
 * The bash completion script: `source <(griot completion bash)`.
 *
 * @param commands - The command table.
 * @param globals - The global option names.
 */
export function bashCompletion(commands: readonly Command[], globals: readonly string[]): string {
  const top = [...new Set(commands.map((c) => c.name.split(' ')[0]!)), 'help'];
  const groups = [...new Set(commands.filter((c) => c.name.includes(' ')).map((c) => c.name.split(' ')[0]!))];
  const cases = commands.map((c) => `    "${c.name}") opts="${optionWords(c, globals).join(' ')}" ;;`);
  return `# bash completion for griot: source <(griot completion bash)
_griot() {
  local cur words cmd sub opts i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  words=()
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in -*) ;; *) words+=("\${COMP_WORDS[i]}") ;; esac
  done
  cmd="\${words[0]}"
  sub="\${words[1]}"
  if [[ \${#words[@]} -eq 0 ]]; then
    if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "${globals.map((n) => `--${n}`).join(' ')} --version" -- "$cur")); else COMPREPLY=($(compgen -W "${top.join(' ')}" -- "$cur")); fi
    return
  fi
  case "$cmd" in
${groups.map((g) => `    ${g}) if [[ \${#words[@]} -eq 1 ]]; then COMPREPLY=($(compgen -W "${commands.filter((c) => c.name.startsWith(`${g} `)).map((c) => c.name.split(' ')[1]).join(' ')}" -- "$cur")); return; fi; cmd="$cmd $sub" ;;`).join('\n')}
    help) COMPREPLY=($(compgen -W "${top.join(' ')}" -- "$cur")); return ;;
    completion) COMPREPLY=($(compgen -W "bash zsh" -- "$cur")); return ;;
  esac
  opts=""
  case "$cmd" in
${cases.join('\n')}
  esac
  if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "$opts" -- "$cur")); else COMPREPLY=($(compgen -f -- "$cur")); fi
}
complete -o filenames -F _griot griot
`;
}

/**
 * The zsh completion script: `source <(griot completion zsh)`, or saved as `_griot` in $fpath.
 *
 * @param commands - The command table.
 * @param globals - The global option names.
 */
export function zshCompletion(commands: readonly Command[], globals: readonly string[]): string {
  const top = [...new Set(commands.map((c) => c.name.split(' ')[0]!)), 'help'];
  const groups = [...new Set(commands.filter((c) => c.name.includes(' ')).map((c) => c.name.split(' ')[0]!))];
  const summary = (name: string) => (commands.find((c) => c.name === name || c.name.startsWith(`${name} `))?.summary ?? 'help on a command').replace(/[:'\[\]]/g, ' ');
  return `#compdef griot
# zsh completion for griot: source <(griot completion zsh), or save as _griot in a folder of $fpath
_griot() {
  local -a words_ commands
  local w cmd
  for w in \${words[2,CURRENT-1]}; do [[ "$w" == -* ]] || words_+=("$w"); done
  if (( \${#words_} == 0 )); then
    if [[ "$PREFIX" == -* ]]; then compadd -- ${globals.map((n) => `--${n}`).join(' ')} --version; return; fi
    commands=(${top.map((t) => `'${t}:${summary(t)}'`).join(' ')})
    _describe 'command' commands
    return
  fi
  cmd="\${words_[1]}"
  case "$cmd" in
${groups.map((g) => `    ${g}) if (( \${#words_} == 1 )); then compadd -- ${commands.filter((c) => c.name.startsWith(`${g} `)).map((c) => c.name.split(' ')[1]).join(' ')}; return; fi; cmd="$cmd \${words_[2]}" ;;`).join('\n')}
    help) compadd -- ${top.join(' ')}; return ;;
    completion) compadd -- bash zsh; return ;;
  esac
  if [[ "$PREFIX" == -* ]]; then
    case "$cmd" in
${commands.map((c) => `      "${c.name}") compadd -- ${optionWords(c, globals).join(' ')} ;;`).join('\n')}
    esac
  else
    _files
  fi
}
compdef _griot griot
`;
}
