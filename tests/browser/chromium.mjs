// Starting Debian's Chromium for the browser tests (join_flow.mjs, console_flow.mjs).
//
// The first start on a machine reads some 300 MB from disk and, on a CI machine whose two
// cores are busy with other tests, has taken longer than 15 s (seen in CI: "launch chromium
// timed out after 15000 ms"). So a start gets a long deadline of its own and one more try;
// a start that fails twice still fails the test.
export const CHROMIUM = process.env.CARDSMITH_CHROMIUM || '/usr/bin/chromium';
export const LAUNCH_MS = 45_000;
export const LAUNCH_ATTEMPTS = 2;

// The flags the machine needs: without the background-networking ones Chromium keeps
// trying to reach Google's hosts through the closed network.
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// Launches Chromium with playwright-core's `chromium`; `log` is told about a failed try.
export async function launchChromium(chromium, log = () => {}) {
  let last;
  for (let attempt = 1; attempt <= LAUNCH_ATTEMPTS; ++attempt) {
    try {
      return await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        timeout: LAUNCH_MS,
        args: ARGS,
      });
    } catch (err) {
      last = err;
      log(`chromium start ${attempt} of ${LAUNCH_ATTEMPTS} failed: ${err.message.split('\n')[0]}`);
    }
  }
  throw last;
}
