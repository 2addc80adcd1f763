// Drives Debian's chromium (headless) through a roomcast room page, as a listener would:
// play, click a word, check the audio moved there and the highlight followed, then search and
// follow a hit to its moment. Prints one JSON line of what it saw; tests/web.rs asserts on it.
//
//   node room.mjs BASE_URL ROOM_ID WORD_START QUERY SCREENSHOT
import { chromium } from 'playwright-core';

const [base, roomId, wordStart, query, screenshot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--autoplay-policy=no-user-gesture-required', '--no-sandbox'],
});
const seen = {};
try {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', e => errors.push(String(e)));
  const player = () => page.evaluate(() => {
    const a = document.getElementById('player');
    return { t: a.currentTime, ready: a.readyState, paused: a.paused, duration: a.duration };
  });
  await page.goto(`${base}/rooms/${roomId}`);
  await page.waitForFunction(() => document.getElementById('player').readyState >= 1, null, { timeout: 15000 });
  await page.evaluate(() => document.getElementById('player').play());
  await page.waitForFunction(() => document.getElementById('player').currentTime > 0.3, null, { timeout: 15000 });
  seen.playing = await player();

  await page.click(`#transcript .w[data-s="${wordStart}"]`);
  await page.waitForFunction(() => document.querySelector('#transcript .now') !== null, null, { timeout: 5000 });
  seen.after_click = await player();
  seen.lit = await page.evaluate(() =>
    Array.from(document.querySelectorAll('#transcript .now')).map(e => parseFloat(e.dataset.s)));
  // Let it play on: the highlight has to follow the audio, not stay on the clicked word.
  await page.waitForTimeout(1500);
  seen.later = await player();
  seen.lit_later = await page.evaluate(() =>
    Array.from(document.querySelectorAll('#transcript .now')).map(e => parseFloat(e.dataset.s)));

  await page.fill('header input[name=q]', query);
  await page.press('header input[name=q]', 'Enter');
  await page.waitForSelector('.hit a.go', { timeout: 5000 });
  seen.hit_href = await page.getAttribute('.hit a.go', 'href');
  await page.click('.hit a.go');
  await page.waitForFunction(() => {
    const a = document.getElementById('player');
    return a.readyState >= 1 && a.currentTime > 0;
  }, null, { timeout: 15000 });
  seen.at_hit = await player();
  seen.lit_at_hit = await page.evaluate(() =>
    Array.from(document.querySelectorAll('#transcript .now')).map(e => parseFloat(e.dataset.s)));
  await page.screenshot({ path: screenshot, fullPage: true });
  seen.errors = errors;
} finally {
  await browser.close();
}
console.log(JSON.stringify(seen));
