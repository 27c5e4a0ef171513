// Drives Debian's firefox-esr headless through puppeteer-core (WebDriver
// BiDi) against a running Pasteur: node browser_pasteur_firefox.js URL
// SHOTS_DIR.  A plain paste and one with a password are created in one
// browser context and opened in fresh ones; the text decrypted must be
// the one typed.  Prints the runner's lines, and "# secret X" for every
// plaintext and key (the .py looks for them in the store).
'use strict';
const puppeteer = require('puppeteer-core');
const path = require('path');

const [url, shots] = process.argv.slice(2);
let failed = 0;
function check(name, cond, why) {
  if (cond) console.log(`ok - firefox: ${name}`);
  else { failed++; console.log(`not ok - firefox: ${name}${why !== undefined ? ': ' + String(why).replace(/\n/g, ' ') : ''}`); }
}
const secret = s => console.log(`# secret ${JSON.stringify(s)}`);

(async () => {
  let browser;
  try {
    browser = await puppeteer.launch({ browser: 'firefox', executablePath: process.env.UWEB_FIREFOX || '/usr/bin/firefox-esr',
                                       headless: true, protocol: 'webDriverBiDi' });
  } catch (e) {
    console.log(`not ok - firefox: firefox-esr does not launch: ${e.message.split('\n')[0]}`);
    process.exitCode = 1;
    return;
  }
  const errors = [];
  async function fresh() {
    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    await page.setViewport({ width: 900, height: 700 });
    page.on('console', m => { if (/Content-Security-Policy|Content Security Policy/i.test(m.text())) errors.push(m.text().slice(0, 80)); });
    page.on('pageerror', e => errors.push('page error: ' + e.message));
    return page;
  }
  const visible = sel => `${sel}:not([hidden])`;
  async function create(text, password, shot) {
    const page = await fresh();
    await page.goto(url + '/', { waitUntil: 'load' });
    await page.waitForSelector(visible('#create'));
    await page.type('#text', text);
    if (password) await page.type('#password', password);
    if (shot) await page.screenshot({ path: path.join(shots, shot), fullPage: true });
    await page.click('#send');
    await page.waitForSelector(visible('#created'), { timeout: 90000 });
    const link = await page.$eval('#link', e => e.value);
    secret(text);
    secret(link.split('#')[1]);
    await page.browserContext().close();
    return link;
  }
  async function shownText(page) {
    await page.waitForSelector(visible('#shown'), { timeout: 90000 });
    return page.$eval('#code', e => e.textContent);
  }
  try {
    const plain = 'Firefox decrypts this: ' + Date.now() + ' «ünïcødé» ✓';
    const a = await create(plain, '', 'pasteur-firefox-create.png');
    check('creating a paste gives a link with a key in the fragment', /\/\?[0-9a-f]{16}#[A-Za-z0-9_-]{43}$/.test(a), a);
    let page = await fresh();
    await page.goto(a, { waitUntil: 'load' });
    check('the link opened in a fresh browser context shows the decrypted text', (await shownText(page)) === plain);
    await page.browserContext().close();

    const guarded = 'Guarded in Firefox by a password ' + Date.now();
    const b = await create(guarded, 'correct horse');
    page = await fresh();
    await page.goto(b, { waitUntil: 'load' });
    await page.waitForSelector(visible('#password-gate'));
    await page.type('#view-password', 'wrong');
    await page.click('#password-gate button');
    await page.waitForSelector(visible('#message'), { timeout: 90000 });
    const msg = await page.$eval('#message', e => e.textContent);
    check('a wrong password says so', /wrong password/.test(msg), msg);
    await page.$eval('#view-password', e => { e.value = ''; });
    await page.type('#view-password', 'correct horse');
    await page.click('#password-gate button');
    check('with a password: the link in a fresh context and the password give the same plaintext',
          (await shownText(page)) === guarded);
    await page.screenshot({ path: path.join(shots, 'pasteur-firefox-view.png'), fullPage: true });
    check('the page is a secure context with WebCrypto', await page.evaluate(() => window.isSecureContext && !!crypto.subtle));
    await page.browserContext().close();
    check('no CSP violation and no page error', errors.length === 0, errors.join(' | '));
  } catch (e) {
    check('the run ends without an exception', false, e.stack || e.message);
  } finally {
    await browser.close();
  }
  process.exitCode = failed ? 1 : 0;
})();
