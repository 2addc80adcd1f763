// Drives Debian's chromium (headless) as a listener of a live room: the room page's player plays
// the continuous stream, and its currentTime advances while the room is on. Prints one JSON line.
//
//   node listen.mjs BASE_URL ROOM_ID
import { chromium } from 'playwright-core';

const [base, roomId] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required'],
});
const seen = { errors: [] };
try {
  const page = await browser.newPage();
  page.on('pageerror', e => seen.errors.push(String(e)));
  await page.goto(`${base}/rooms/${roomId}`);
  seen.src = await page.getAttribute('audio#live-player', 'src', { timeout: 10000 });
  await page.evaluate(() => document.getElementById('live-player').play());
  await page.waitForFunction(() => document.getElementById('live-player').currentTime > 0.5, null, { timeout: 20000 });
  seen.t0 = await page.evaluate(() => document.getElementById('live-player').currentTime);
  await page.waitForTimeout(4000);
  seen.t1 = await page.evaluate(() => document.getElementById('live-player').currentTime);
  seen.paused = await page.evaluate(() => document.getElementById('live-player').paused);
  seen.media_error = await page.evaluate(() => document.getElementById('live-player').error?.message ?? null);
} catch (e) {
  seen.failure = String(e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(seen));
