// The spec helpers live in @mmp/test-harness, where library specs can import them too; specs
// under test/ import them from here.
export {
  eventually,
  moveSandboxClock,
  readSandboxClock,
  uniqueName,
  useTestDatabase,
  waitForSandboxClock,
  type TestDatabaseHandle,
} from '@mmp/test-harness';
