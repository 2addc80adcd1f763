// Drives Debian's chromium (headless) through the room page's multitrack player: mute and solo
// (found by their accessible names; listening to each lane's analyser), the speaker-turn and chapter controls, the keys, search in
// the room, a shared quote link, a soundbite, and the page on a phone-sized screen. Prints one JSON
// line of what it saw; tests/web.rs asserts on it.
//
//   node player.mjs BASE_URL ROOM_ID SCREENSHOT
import { chromium } from 'playwright-core';

const [base, roomId, screenshot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--autoplay-policy=no-user-gesture-required', '--no-sandbox'],
});
const seen = {};
const errors = [];
const room = `${base}/rooms/${roomId}`;

async function open(page, url) {
  page.on('pageerror', e => errors.push(String(e)));
  await page.goto(url);
  await page.waitForFunction(() => document.getElementById('player').readyState >= 1, null, { timeout: 15000 });
}
const state = page => page.evaluate(() => window.roomcastPlayer.state());
const time = page => page.evaluate(() => document.getElementById('player').currentTime);
// Plays from `from` for `ms` and keeps each lane's loudest analyser reading.
const listen = (page, from, ms) => page.evaluate(([from, ms]) => new Promise(done => {
  const rp = window.roomcastPlayer;
  rp.seek(from);
  const loudest = {};
  const id = setInterval(() => {
    for (const l of rp.state().lanes) loudest[l.name] = Math.max(loudest[l.name] ?? 0, l.level);
  }, 25);
  setTimeout(() => {
    clearInterval(id);
    const s = rp.state();
    document.getElementById('player').pause();
    done({ loudest, to: s.time, mode: s.mode, note: s.note, gains: Object.fromEntries(s.lanes.map(l => [l.name, l.gain])) });
  }, ms);
}), [from, ms]);
// Waits until playback has stopped by itself after `after` seconds.
const stoppedAfter = (page, after) => page.waitForFunction(after => {
  const a = document.getElementById('player');
  return a.paused && a.currentTime > after;
}, after, { timeout: 20000 });

try {
  const page = await browser.newPage();
  await open(page, room);
  seen.turns = await page.evaluate(() => window.roomcastPlayer.turns);

  // The lane buttons are found by the names a screen reader says, and say whether they are on.
  const muteMaya = page.getByRole('button', { name: 'Mute Maya', exact: true });
  const soloMaya = page.getByRole('button', { name: 'Solo Maya', exact: true });
  const pressed = async () => ({ solo: await soloMaya.getAttribute('aria-pressed', { timeout: 5000 }),
    mute: await muteMaya.getAttribute('aria-pressed', { timeout: 5000 }) });
  seen.pressed = { before: await pressed() };

  // Mute Maya: the page moves to the speakers' own tracks; Maya's lane is silent while she still
  // talks (to 7.1 s) and Theo's is not when he answers (from 8.5 s).
  await muteMaya.click({ timeout: 5000 });
  seen.pressed.muted = await pressed();
  await page.waitForFunction(() => window.roomcastPlayer.mode === 'tracks', null, { timeout: 30000 });
  seen.muted = await listen(page, 5.5, 4000);
  seen.muted.lane_gain = await page.getAttribute('.lane[data-name="Maya"]', 'data-gain');
  await muteMaya.click();
  seen.pressed.unmuted = await pressed();
  seen.unmuted_mode = (await state(page)).mode;
  // Solo Maya over the same stretch: only her lane sounds.
  await soloMaya.click();
  seen.pressed.soloed = await pressed();
  await page.waitForFunction(() => window.roomcastPlayer.mode === 'tracks', null, { timeout: 30000 });
  seen.solo = await listen(page, 5.5, 4000);
  await soloMaya.click();
  seen.mode_after = (await state(page)).mode;

  // Speaker turns and chapters, by the buttons.
  await page.evaluate(() => { document.getElementById('player').currentTime = 20; });
  await page.click('#next-turn');
  seen.next_from_20 = await time(page);
  await page.click('#prev-turn');
  seen.prev_after = await time(page);
  await page.click('#chapters a[data-t="38.00"]');
  seen.chapter_click = await time(page);
  await page.evaluate(() => { document.getElementById('player').currentTime = 5; });
  await page.click('#next-chapter');
  seen.next_chapter_from_5 = await time(page);

  // Keys, with nothing focused.
  await page.evaluate(() => {
    const a = document.getElementById('player');
    a.pause();
    a.currentTime = 30;
    document.activeElement.blur();
  });
  const keys = {};
  await page.keyboard.press('n');
  keys.n_from_30 = await time(page);
  await page.keyboard.press('p');
  keys.p_after = await time(page);
  await page.keyboard.press(' ');
  keys.space_paused = (await state(page)).paused;
  await page.keyboard.press(' ');
  keys.space_again_paused = (await state(page)).paused;
  await page.evaluate(() => document.getElementById('player').pause());
  keys.before_arrows = await time(page);
  await page.keyboard.press('ArrowRight');
  keys.right = await time(page);
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('ArrowLeft');
  keys.left_twice = await time(page);
  // Typing in the find box is typing, not a shortcut.
  await page.click('#find');
  await page.keyboard.type('n p');
  keys.after_typing = await time(page);
  seen.keys = keys;

  // Search in the room.
  await page.fill('#find', 'loudness');
  seen.find_hits = await page.evaluate(() => document.querySelectorAll('#transcript .w.hit').length);
  await page.press('#find', 'Enter');
  seen.find_current = await page.evaluate(() => {
    const c = document.querySelector('#transcript .w.cur');
    return { s: c && parseFloat(c.dataset.s), t: document.getElementById('player').currentTime };
  });

  // Select four words of Priya's line at 52 s: the page offers a quote link.
  seen.selected = await page.evaluate(() => {
    const ws = Array.from(document.querySelectorAll('#transcript .seg[data-start="52.00"] .w')).slice(1, 5);
    const r = document.createRange();
    r.setStart(ws[0].firstChild, 0);
    r.setEnd(ws[3].firstChild, ws[3].firstChild.length);
    getSelection().removeAllRanges();
    getSelection().addRange(r);
    return { s: parseFloat(ws[0].dataset.s), e: parseFloat(ws[3].dataset.e) };
  });
  await page.waitForSelector('#quote:not([hidden])', { timeout: 5000 });
  seen.quote_href = await page.getAttribute('#quote-link', 'href');

  // A soundbite plays its span and stops.
  seen.soundbite_title = await page.textContent('#soundbites li');
  await page.click('#soundbites .bite');
  const biteStart = parseFloat(await page.getAttribute('#soundbites .bite', 'data-s'));
  await stoppedAfter(page, biteStart);
  seen.soundbite_stop = await time(page);

  // The quote link opened fresh: it plays from t and stops at end, with the words marked.
  const quoted = await browser.newPage();
  await open(quoted, `${base}${seen.quote_href}`);
  await stoppedAfter(quoted, seen.selected.s);
  seen.quote_stop = await time(quoted);
  seen.quoted_words = await quoted.evaluate(() =>
    Array.from(document.querySelectorAll('#transcript .quoted')).map(e => parseFloat(e.dataset.s)));
  await quoted.close();

  // A track the server cannot give: solo and mute keep the master playing, and say so.
  const broken = await browser.newPage();
  await broken.route('**/tracks/theo', r => r.fulfill({ status: 404, body: 'gone' }));
  await open(broken, room);
  await broken.click('.lane[data-name="Maya"] .mute');
  await broken.waitForFunction(() => document.getElementById('mix-note').textContent.includes('mix'), null,
    { timeout: 30000 });
  seen.fallback = await state(broken);
  await broken.close();

  // A phone: nothing wider than the screen, and the controls on it.
  const phone = await browser.newPage({ viewport: { width: 375, height: 740 } });
  await open(phone, room);
  seen.phone = await phone.evaluate(() => {
    const inside = sel => Array.from(document.querySelectorAll(sel)).every(el => {
      const r = el.getBoundingClientRect();
      return r.width > 0 && r.height > 0 && r.left >= 0 && r.right <= innerWidth;
    });
    return {
      scroll_width: document.scrollingElement.scrollWidth,
      inner_width: innerWidth,
      controls_visible: ['#player', '#play', '#next-turn', '#prev-turn', '#next-chapter', '#prev-chapter',
        '.lane .solo', '.lane .mute', '.lane .bars', '#find', '#chapters a'].every(inside),
    };
  });
  await phone.screenshot({ path: screenshot, fullPage: true });
  seen.errors = errors;
} finally {
  await browser.close();
}
console.log(JSON.stringify(seen));
