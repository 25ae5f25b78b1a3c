/**
 * A bad configuration value stops a service process at start with exit code 2
 * and one line that names the variable and what is wrong.
 */
import { spawnTs, waitForExit } from '@griot/test/support/process';

describe.each([
  ['services/griot.ts', 'REGISTRY_LISTEN', 'nonsense', /^griot: invalid configuration: REGISTRY_LISTEN: "nonsense" is not host:port/],
  ['services/griot.ts', 'CONTENT_DATABASE_URL', 'mysql://h/db', /^griot: invalid configuration: CONTENT_DATABASE_URL: has scheme "mysql:"/],
  ['services/registry/src/main.ts', 'LOG_LEVEL', 'loud', /^registry: invalid configuration: LOG_LEVEL: "loud" is not one of/],
  ['services/registry/src/main.ts', 'CONTENT_STORE_ADDR', 'content-store', /^registry: invalid configuration: CONTENT_STORE_ADDR: "content-store" is not host:port/],
  ['services/registry/src/main.ts', 'REGISTRY_OPERATORS', 'did:key:z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH,did:web:example.org', /^registry: invalid configuration: REGISTRY_OPERATORS: "did:web:example.org" is not an Ed25519 did:key/],
  ['services/registry/src/main.ts', 'REGISTRY_KEY_FILE', '/nonexistent/registry-key.json', /^registry: invalid configuration: REGISTRY_KEY_FILE: cannot read \/nonexistent\/registry-key.json/],
  ['services/content-store/src/main.ts', 'CONTENT_WRITERS', 'alice', /^content-store: invalid configuration: CONTENT_WRITERS: "alice" is not an Ed25519 did:key/],
  ['services/content-store/src/main.ts', 'CONTENT_REQUIRE_READ_AUTH', 'maybe', /^content-store: invalid configuration: CONTENT_REQUIRE_READ_AUTH: "maybe" is not true or false/],
])('%s with %s=%s', (entry, variable, value, message) => {
  it('exits 2 with one line naming the variable', async () => {
    const result = await waitForExit(spawnTs(entry, { [variable]: value, GRIOT_DATA_DIR: '/nonexistent/should-not-be-created' }));
    expect(result.code).toBe(2);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
  });
});
