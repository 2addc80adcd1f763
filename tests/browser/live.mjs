// Drives Debian's chromium (headless) through a live room page as a listener would: captions
// appear per speaker while the room is on, a reload mid-room neither loses nor repeats one, the
// page says when the room ends, and it turns into the player once the room is published. Prints
// one JSON line of what it saw; tests/live_captions.rs asserts on it.
//
//   node live.mjs BASE_URL ROOM_ID LIVE_SCREENSHOT SCREENSHOT
import { chromium } from 'playwright-core';

const [base, roomId, liveShot, screenshot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
const seen = { errors: [] };
const finals = (page) => page.evaluate(() =>
  Array.from(document.querySelectorAll('#captions p.final')).map(p => ({
    u: p.dataset.u, who: p.querySelector('.who').textContent, text: p.querySelector('.text').textContent,
  })));
try {
  const page = await browser.newPage();
  page.on('pageerror', e => seen.errors.push(String(e)));
  await page.goto(`${base}/rooms/${roomId}`);
  seen.badge = await page.locator('#live-badge').textContent();
  // Captions of at least two speakers, while the room is on.
  await page.waitForFunction(() => new Set(Array.from(document.querySelectorAll('#captions p.final'))
    .map(p => p.dataset.speaker)).size >= 2, null, { timeout: 60000 });
  seen.partial_seen = await page.evaluate(() => document.querySelectorAll('.partial').length > 0);
  seen.lanes = await page.evaluate(() => Array.from(document.querySelectorAll('.live-lane'))
    .map(l => ({ who: l.querySelector('.who').textContent, now: l.querySelector('.now').textContent })));
  await page.screenshot({ path: liveShot, fullPage: true });
  seen.before_reload = await finals(page);
  seen.ended_before_reload = await page.evaluate(() => !document.getElementById('live-state').hidden);
  await page.reload();
  seen.after_reload = await finals(page);
  // The room ends: the page says so.
  await page.waitForFunction(() => !document.getElementById('live-state').hidden, null, { timeout: 90000 });
  seen.ended_text = await page.locator('#live-state').textContent();
  seen.final_count_at_end = (await finals(page)).length;
  seen.at_end = await finals(page);
  // Published (the test runs `roomcast publish`): the page becomes the player by itself.
  await page.waitForSelector('audio#player[src]', { timeout: 150000 });
  seen.player = await page.getAttribute('audio#player', 'src');
  seen.transcript_segments = await page.evaluate(() => document.querySelectorAll('#transcript p.seg').length);
  await page.screenshot({ path: screenshot, fullPage: true });
} catch (e) {
  seen.failure = String(e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(seen));
