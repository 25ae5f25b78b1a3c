/**
 * Who may do what, in one sentence per PERMISSION_DENIED reason the services
 * send: a refusal the CLI prints says who may make the call.
 */

/** The sentence for each reason, from the ErrorInfo metadata and the server's message. */
const WHO_MAY: Record<string, (metadata: Readonly<Record<string, string>>, details: string) => string> = {
  NOT_A_PACKAGE_OWNER: (m, details) => {
    const owners = (m['owners'] ?? '').split(',').filter((d) => d !== '');
    // The owners are named once: the server's message usually does it already.
    const named = owners.length > 0 && !owners.every((d) => details.includes(d)) ? ` (owners: ${owners.join(', ')})` : '';
    const name = m['name'];
    return `only an owner of ${name ?? 'the package name'} may do this${named}${name ? `; see griot owner ls ${name}` : ''}`;
  },
  NOT_JOB_NODE: () => 'only the node the job targets may do this (its agent, with --node FILE)',
  NOT_AN_OPERATOR: () => "a node may do this for itself only; for another node, only an operator may (a DID in the registry's REGISTRY_OPERATORS)",
  NOT_JOB_READER: () => "only the job's node, the DID that created it or an operator may read it (give --node FILE or --key FILE)",
  NOT_MANIFEST_CREATOR: () => "only the manifest's creator or a content operator (a DID in the content store's CONTENT_OPERATORS) may delete it",
  NOT_A_CONTENT_WRITER: () => "only the DIDs in the content store's CONTENT_WRITERS may write to it",
};

/**
 * The one line of a PERMISSION_DENIED refusal: the server's message, followed
 * by who may make the call unless the message already says so.
 *
 * @param details - The status message.
 * @param reason - The ErrorInfo reason, when there is one.
 * @param metadata - The ErrorInfo metadata.
 */
export function refusalLine(details: string, reason: string | undefined, metadata: Readonly<Record<string, string>> = {}): string {
  const whoMay = reason === undefined ? undefined : WHO_MAY[reason];
  const line = details.replace(/\s*\n\s*/g, ' ').trim();
  // A message that already says who may ("only …") is kept as the server wrote it.
  if (whoMay === undefined || /\bonly\b/i.test(line)) return line;
  return `${line.replace(/[.;:]$/, '')}; ${whoMay(metadata, line)}`;
}
