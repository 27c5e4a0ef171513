// Drives Debian's chromium through playwright-core against a running
// chat and wsecho: node browser_chat.js CHAT_URL WSECHO_URL SCREENSHOT.
// Prints the runner's protocol lines; run by browser_chat.py.
'use strict';
const { chromium } = require('playwright-core');

const [url, echoUrl, shot] = process.argv.slice(2);
let failed = 0;
const tag = url.startsWith('https:') ? 'browser chat over https' : 'browser chat';
function check(name, cond, why) {
  if (cond) console.log(`ok - ${tag}: ${name}`);
  else { failed++; console.log(`not ok - ${tag}: ${name}${why !== undefined ? ': ' + String(why).replace(/\n/g, ' ') : ''}`); }
}

async function joined(browser, name) {
  const context = await browser.newContext({ viewport: { width: 760, height: 620 } });
  const page = await context.newPage();
  const resp = await page.goto(url + '/', { waitUntil: 'load' });
  check(`${name}: the page loads (200)`, resp && resp.status() === 200, resp && resp.status());
  await page.fill('#name', name);
  await page.click('#join button');
  await page.waitForSelector('#say:not([hidden])');
  await page.waitForFunction(() => document.querySelector('#status').classList.contains('online'), null, { timeout: 10000 });
  return page;
}

async function sees(page, from, text) {
  try {
    await page.waitForFunction(([f, x]) => [...document.querySelectorAll('#log li')]
      .some(li => li.querySelector('.from') && li.querySelector('.from').textContent === f && li.textContent.endsWith(x)),
      [from, text], { timeout: 10000 });
    return true;
  } catch (e) {
    return false;
  }
}

(async () => {
  let browser;
  try {
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
             '--disable-component-update', '--disable-sync', '--no-first-run',
             // the test CA's certificate trusted by its SPKI hash (https runs)
             ...(process.env.UWEB_CHROMIUM_ARGS || '').split(' ').filter(Boolean)],
    });
  } catch (e) {
    console.log(`not ok - ${tag}: chromium does not launch: ${e.message.split('\n')[0]}`);
    process.exitCode = 1;
    return;
  }
  try {
    // a reader of the room's server-sent events, from before the talk
    const reader = await (await browser.newContext()).newPage();
    await reader.goto(url + '/', { waitUntil: 'load' });
    await reader.evaluate(() => {
      window.got = [];
      const es = new EventSource('/events');
      es.addEventListener('chat', ev => window.got.push(JSON.parse(ev.data)));
    });

    const alice = await joined(browser, 'alice');
    const bob = await joined(browser, 'bob');
    check('alice sees bob join', await alice.waitForFunction(() =>
      document.querySelector('#log').textContent.includes('bob joined'), null, { timeout: 10000 }).then(() => true, () => false));
    await alice.fill('#text', 'Hello from alice <b>not bold</b> ✓');
    await alice.click('#say button');
    check("bob sees alice's message (over a WebSocket)", await sees(bob, 'alice', 'Hello from alice <b>not bold</b> ✓'));
    check('the message is text, not HTML', await bob.evaluate(() => !document.querySelector('#log b')));
    await bob.fill('#text', 'Hi alice, bob here');
    await bob.press('#text', 'Enter');
    check("alice sees bob's answer", await sees(alice, 'bob', 'Hi alice, bob here'));
    check('alice sees her own message', await sees(alice, 'alice', 'Hello from alice <b>not bold</b> ✓'));
    const status = await alice.textContent('#status');
    check('the status counts the members online', /2 online/.test(status), status);
    if (shot !== '-') await alice.screenshot({ path: shot });

    // EventSource saw the talk
    let got = [];
    for (let i = 0; i < 50; i++) {
      got = await reader.evaluate(() => window.got);
      if (got.some(m => m.from === 'bob')) break;
      await reader.waitForTimeout(100);
    }
    check("EventSource on /events gets alice's and bob's messages",
      got.some(m => m.from === 'alice' && m.text.startsWith('Hello from alice')) && got.some(m => m.from === 'bob'),
      JSON.stringify(got));

    // wsecho's /sse: named events with ids; the browser reconnects with Last-Event-ID
    const sse = await (await browser.newContext()).newPage();
    await sse.goto(echoUrl + '/', { waitUntil: 'load' });
    const ticks = await sse.evaluate(() => new Promise(resolve => {
      const seen = [];
      const es = new EventSource('/sse');
      es.addEventListener('tick', ev => {
        seen.push([ev.lastEventId, ev.data]);
        if (seen.length === 8) { es.close(); resolve(seen); }
      });
      setTimeout(() => { es.close(); resolve(seen); }, 8000);
    }));
    check('EventSource gets named events with their ids and multi-line data',
      ticks.length >= 5 && ticks[0][0] === '1' && ticks[0][1] === 'tick 1\nline two', JSON.stringify(ticks));
    check('EventSource reconnects with Last-Event-ID and goes on after it',
      ticks.length === 8 && ticks[5][0] === '6' && ticks[7][0] === '8', JSON.stringify(ticks));
  } catch (e) {
    check('the scenario ran', false, e.message.split('\n')[0]);
  } finally {
    await browser.close();
  }
  process.exitCode = failed ? 1 : 0;
})();
