// Drives Debian's chromium (headless) through a long room's player, as a listener on a phone would
// use it: Solo one speaker and Mute another (by the buttons' accessible names), jump past the first
// hour and play. Watches what a phone would run out of, the renderer process's resident memory
// (read from /proc: audio buffers live outside the JS heap, so Performance.getMetrics would not see
// them), and whether each speaker's track keeps to the master's clock. Prints one JSON line of what
// it saw; tests/web.rs asserts on it.
//
//   node long.mjs BASE_URL ROOM_ID SOLO MUTE AT SCREENSHOT
import { readdirSync, readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const [base, roomId, soloName, muteName, atArg, screenshot] = process.argv.slice(2);
const at = parseFloat(atArg);
// Past this the page is stopped where it is: far over any phone's budget already, and a player
// that decodes whole tracks would otherwise take gigabytes of the test machine with it.
const GIVE_UP_BYTES = 1.5 * 2 ** 30;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--autoplay-policy=no-user-gesture-required', '--no-sandbox'],
});

// The renderer processes this script's browser started (chromium's zygote forks them, so they
// are descendants, not children), each with its resident and peak resident memory in bytes.
function renderers() {
  const parent = new Map();
  const cmdline = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(+d, +stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      cmdline.set(+d, readFileSync(`/proc/${d}/cmdline`, 'utf8'));
    } catch { /* gone meanwhile */ }
  }
  const ours = pid => {
    for (let p = parent.get(pid); p > 1; p = parent.get(p)) if (p === process.pid) return true;
    return false;
  };
  const out = [];
  for (const [pid, cmd] of cmdline) {
    if (!cmd.includes('--type=renderer') || !ours(pid)) continue;
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const kb = key => 1024 * +(status.match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm')) || [0, 0])[1];
      out.push({ pid, rss: kb('VmRSS'), peak: kb('VmHWM') });
    } catch { /* gone meanwhile */ }
  }
  return out;
}
// Chromium runs two more renderers beside the page's (about 75 and 155 MB here, whatever the page
// holds), and /proc does not say which one is the page's: the largest is at least the page's.
const memory = { peak: 0, rss_max: 0, samples: 0 };
let gaveUp = false;
const watch = setInterval(() => {
  const rs = renderers();
  if (!rs.length) return;
  memory.samples++;
  memory.rss_max = Math.max(memory.rss_max, ...rs.map(r => r.rss));
  memory.peak = Math.max(memory.peak, ...rs.map(r => r.peak));
  if (memory.rss_max > GIVE_UP_BYTES && !gaveUp) {
    gaveUp = true;
    browser.close().catch(() => {});
  }
}, 200);

const seen = { memory };
const errors = [];
try {
  const page = await browser.newPage();
  page.on('pageerror', e => errors.push(String(e)));
  // How the tracks came: status, type and whether a range was asked for, per response.
  const tracks = [];
  page.on('response', r => {
    if (!r.url().includes('/tracks/')) return;
    tracks.push({
      url: new URL(r.url()).pathname,
      status: r.status(),
      type: r.headers()['content-type'],
      range: r.request().headers().range ?? null,
    });
  });
  await page.goto(`${base}/rooms/${roomId}`);
  await page.waitForFunction(() => document.getElementById('player').readyState >= 1, null, { timeout: 15000 });

  const solo = page.getByRole('button', { name: `Solo ${soloName}`, exact: true });
  const mute = page.getByRole('button', { name: `Mute ${muteName}`, exact: true });
  await solo.click({ timeout: 5000 });
  await mute.click({ timeout: 5000 });
  seen.pressed = { solo: await solo.getAttribute('aria-pressed'), mute: await mute.getAttribute('aria-pressed') };
  await page.waitForFunction(() => window.roomcastPlayer.mode === 'tracks', null, { timeout: 120000 });

  // Past the first hour, then play: once it plays, compare every track's position with the
  // master's several times a second, and keep each lane's loudest level.
  seen.played = await page.evaluate(([at]) => new Promise(done => {
    const rp = window.roomcastPlayer;
    const master = document.getElementById('player');
    rp.seek(at);
    const loudest = {};
    const drift = [];
    let started = null;
    const id = setInterval(() => {
      const s = rp.state();
      for (const l of s.lanes) loudest[l.name] = Math.max(loudest[l.name] ?? 0, l.level);
      if (master.paused || master.seeking || master.currentTime < at) return;
      started ??= performance.now();
      // The first second after it starts is the tracks finding their place.
      if (performance.now() - started < 1000) return;
      const t = master.currentTime;
      const lanes = Array.from(document.querySelectorAll('#lanes .lane')).map(lane => ({
        name: lane.dataset.name,
        tracks: Array.from(lane.querySelectorAll('audio')).map(a => ({ t: a.currentTime, paused: a.paused })),
      }));
      drift.push({ master: t, lanes });
    }, 200);
    setTimeout(() => {
      clearInterval(id);
      const s = rp.state();
      master.pause();
      done({ loudest, drift, to: s.time, mode: s.mode, note: s.note });
    }, 8000);
  }), [at]);
  seen.tracks = tracks;
  seen.renderers_after = renderers();
  await page.screenshot({ path: screenshot, fullPage: true });
} catch (e) {
  seen.failed = gaveUp ? `stopped: the renderer passed ${GIVE_UP_BYTES / 2 ** 20} MB` : String(e);
} finally {
  clearInterval(watch);
  seen.errors = errors;
  await browser.close().catch(() => {});
}
console.log(JSON.stringify(seen));
