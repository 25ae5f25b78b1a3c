/**
 * A GCS JSON-API test server for the real `@google-cloud/storage` client.
 * @packageDocumentation
 */
export { startGcsTestServer, type GcsTestObject, type GcsTestServer } from './gcs-test-server';
