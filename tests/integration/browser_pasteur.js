// Drives Debian's chromium through playwright-core against a running
// Pasteur: node browser_pasteur.js URL SHOTS_DIR ATTACHMENT.  Prints the
// runner's protocol lines, and "# secret X" for every plaintext and key
// (browser_pasteur.py looks for them in the store).
'use strict';
const { chromium } = require('playwright-core');
const fs = require('fs');
const path = require('path');

// PART: core (plain, keys, password, Markdown, code, burn), more
// (tampering, attachment, comments, delete) or https (plain and password
// over the TLS listener: a secure context, HTTP/2 by ALPN).
const [url, shots, attachment, part = 'core'] = process.argv.slice(2);
let failed = 0;
function check(name, cond, why) {
  if (cond) console.log(`ok - ${name}`);
  else { failed++; console.log(`not ok - ${name}${why !== undefined ? ': ' + String(why).replace(/\n/g, ' ') : ''}`); }
}
const secret = s => console.log(`# secret ${JSON.stringify(s)}`);

(async () => {
  let browser;
  try {
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium', headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
             '--disable-component-update', '--disable-sync', '--no-first-run',
             // the https part: the test CA's certificate trusted by its SPKI hash
             ...(process.env.UWEB_CHROMIUM_ARGS || '').split(' ').filter(Boolean)],
    });
  } catch (e) {
    console.log(`not ok - browser: chromium does not launch: ${e.message.split('\n')[0]}`);
    process.exitCode = 1;
    return;
  }
  const traffic = [];       // every URL and request body the pages sent
  const cspErrors = [];
  async function fresh() {
    const context = await browser.newContext({ viewport: { width: 900, height: 700 }, acceptDownloads: true });
    const page = await context.newPage();
    page.on('request', r => traffic.push(r.url() + ' ' + (r.postData() || '')));
    page.on('console', m => { if (/Content Security Policy/i.test(m.text())) cspErrors.push(page.url() + ': ' + m.text().slice(0, 60)); });
    page.on('pageerror', e => cspErrors.push('page error: ' + e.message));
    return page;
  }
  async function create(opts) {
    const page = await fresh();
    await page.goto(url + '/', { waitUntil: 'load' });
    await page.waitForSelector('#create:not([hidden])');
    await page.fill('#text', opts.text);
    if (opts.format) await page.selectOption('#format', opts.format);
    if (opts.lang) await page.selectOption('#lang', opts.lang);
    if (opts.expire) await page.selectOption('#expire', opts.expire);
    if (opts.burn) await page.check('#burn');
    if (opts.comments) await page.check('#comments');
    if (opts.password) await page.fill('#password', opts.password);
    if (opts.file) await page.setInputFiles('#file', opts.file);
    if (opts.shot) await page.screenshot({ path: path.join(shots, opts.shot), fullPage: true });
    await page.click('#send');
    await page.waitForSelector('#created:not([hidden])', { timeout: 60000 });
    const link = await page.inputValue('#link');
    const del = await page.inputValue('#delete-link');
    secret(opts.text);
    secret(link.split('#')[1]);
    await page.context().close();
    return { link, del };
  }
  async function open(link) {
    const page = await fresh();
    await page.goto(link, { waitUntil: 'load' });
    return page;
  }
  async function shownText(page) {
    await page.waitForSelector('#shown:not([hidden])', { timeout: 60000 });
    return page.$eval('#code', e => e.textContent);
  }
  const messageOf = async page => {
    await page.waitForSelector('#message:not([hidden])', { timeout: 60000 });
    return page.textContent('#message');
  };

  let pw, m, c, b, f, dc;
  try {
    // Plain text: create, open in a fresh context, same text.
    const plain = 'The plaintext the server must never see: ' + Date.now() + ' «ünïcødé» ✓';
    const a = await create({ text: plain, shot: 'pasteur-create.png' });
    check('creating a paste gives a link with a key in the fragment', /\/\?[0-9a-f]{16}#[A-Za-z0-9_-]{43}$/.test(a.link), a.link);
    let page = await open(a.link);
    check('the link opened in a fresh browser context shows the decrypted text', (await shownText(page)) === plain);
    await page.screenshot({ path: path.join(shots, 'pasteur-view.png'), fullPage: true });
    const raw = await page.evaluate(() => document.getElementById('meta').textContent);
    check('the paste says its format and expiry', /plain · expires after 1 week/.test(raw), raw);
    if (part === 'https') {
      check('the page is a secure context (WebCrypto available)', await page.evaluate(() => window.isSecureContext && !!crypto.subtle));
      const proto = await page.evaluate(() => performance.getEntries()[0].nextHopProtocol);
      check('the page came over h2 (ALPN)', proto === 'h2', proto);
    }
    await page.context().close();

    // A wrong key (another valid 32-byte key) is refused with a clear message.
    const other = a.link.replace(/#.*/, '#' + Buffer.alloc(32, 7).toString('base64url'));
    page = await open(other);
    check('a wrong key says so', /Could not decrypt: the key in the link is wrong/.test(await messageOf(page)));
    await page.context().close();
    page = await open(a.link.replace(/#.*/, ''));
    check('a link without its key says so', /no valid key/.test(await messageOf(page)));
    await page.context().close();

    if (part === 'more') {
    // Tampering on the way (or on the server): a flipped character of the
    // ciphertext, or the sealed metadata changed, is caught by GCM.
    for (const [what, change] of [
      ['a flipped byte of the ciphertext', j => { const i = 10; j.ct = j.ct.slice(0, i) + (j.ct[i] === 'A' ? 'B' : 'A') + j.ct.slice(i + 1); }],
      ['metadata changed after sealing (expiry)', j => { j.adata = j.adata.replace('"1week"', '"never"'); }],
      ['metadata changed after sealing (format)', j => { j.adata = j.adata.replace('"plain"', '"markdown"'); }],
    ]) {
      page = await fresh();
      await page.route(/\/api\/paste\/[0-9a-f]{16}$/, async route => {
        const r = await route.fetch();
        const j = await r.json();
        change(j);
        await route.fulfill({ response: r, body: JSON.stringify(j) });
      });
      const t = await create({ text: 'tamper with me ' + Date.now() });
      await page.goto(t.link, { waitUntil: 'load' });
      check(`${what} is refused: the page says tampered`, /tampered/.test(await messageOf(page)) &&
            await page.evaluate(() => document.getElementById('shown').hidden));
      await page.context().close();
    }

    }
    if (part === 'core' || part === 'https') {
    // A password: wrong, then right.
    pw = await create({ text: 'guarded by a password ' + Date.now(), password: 'correct horse' });
    page = await open(pw.link);
    await page.waitForSelector('#password-gate:not([hidden])');
    await page.fill('#view-password', 'wrong');
    await page.click('#password-gate button');
    check('a wrong password says so', /wrong password/.test(await messageOf(page)));
    await page.fill('#view-password', 'correct horse');
    await page.click('#password-gate button');
    check('the right password decrypts', (await shownText(page)).startsWith('guarded by a password'));
    await page.context().close();

    }
    if (part === 'core') {
    // Markdown is rendered, and a script in it stays inert.
    const md = '# Title ' + Date.now() + '\n\n*emphasis*\n\n<script>window.pwned=1</script><img src=x onerror="window.pwned=2">';
    m = await create({ text: md, format: 'markdown' });
    page = await open(m.link);
    await page.waitForSelector('#rendered:not([hidden])', { timeout: 60000 });
    const r = await page.evaluate(() => ({
      h1: (document.querySelector('#rendered h1') || {}).textContent, em: !!document.querySelector('#rendered em'),
      scripts: document.querySelectorAll('#rendered script').length, onerror: !!document.querySelector('#rendered [onerror]'),
      pwned: window.pwned,
    }));
    check('Markdown is rendered (h1, em)', r.h1 && r.h1.startsWith('Title') && r.em, JSON.stringify(r));
    check('a script in Markdown is not run nor kept', !r.scripts && !r.onerror && r.pwned === undefined, JSON.stringify(r));
    await page.context().close();

    // Source code is highlighted.
    const code = 'function add(a, b) {\n  return a + b; // ' + Date.now() + '\n}\n';
    c = await create({ text: code, format: 'code', lang: 'javascript' });
    page = await open(c.link);
    check('code keeps its text', (await shownText(page)) === code);
    const kw = await page.$$eval('#code span.hljs-keyword', els => els.map(e => e.textContent));
    check('code is highlighted by highlight.js', kw.includes('function') && kw.includes('return'), JSON.stringify(kw));
    await page.screenshot({ path: path.join(shots, 'pasteur-code.png'), fullPage: true });
    await page.context().close();

    // Burn after reading: a click first, then gone.
    b = await create({ text: 'read me once ' + Date.now(), burn: true });
    page = await open(b.link);
    await page.waitForSelector('#burn-gate:not([hidden])');
    const before = await page.evaluate(() => document.getElementById('shown').hidden);
    check('a burn paste waits for a click before it is fetched', before === true);
    await page.click('#reveal');
    check('after the click it is shown', (await shownText(page)).startsWith('read me once'));
    await page.context().close();
    page = await open(b.link);
    check('a second open of a burn paste says it is gone', /does not exist/.test(await messageOf(page)));
    await page.context().close();

    }
    if (part === 'more') {
    // An attachment round trip.
    f = await create({ text: 'with a file ' + Date.now(), file: attachment });
    page = await open(f.link);
    await shownText(page);
    const downloaded = page.waitForEvent('download');
    await page.click('#attachment-link');
    const d = await downloaded;
    const saved = path.join(shots, 'pasteur-downloaded.bin');
    await d.saveAs(saved);
    check('the attachment downloads decrypted, byte for byte',
          d.suggestedFilename() === path.basename(attachment) && fs.readFileSync(saved).equals(fs.readFileSync(attachment)),
          d.suggestedFilename());
    await page.context().close();

    // A discussion: a comment added in one context is read in another.
    dc = await create({ text: 'discuss this ' + Date.now(), comments: true });
    page = await open(dc.link);
    await shownText(page);
    await page.waitForSelector('#discussion:not([hidden])');
    const words = 'a comment only readers of the link see ' + Date.now();
    secret(words);
    await page.fill('#nick', 'ada');
    await page.fill('#comment-text', words);
    await page.click('#comment-form button');
    await page.waitForSelector('#comment-list li');
    await page.context().close();
    page = await open(dc.link);
    await shownText(page);
    await page.waitForSelector('#comment-list li', { timeout: 60000 });
    const seen = await page.$$eval('#comment-list li', els => els.map(e => e.textContent));
    check('a comment added in one browser is read decrypted in another', seen.length === 1 && seen[0] === 'ada' + words,
          JSON.stringify(seen));
    await page.screenshot({ path: path.join(shots, 'pasteur-comments.png'), fullPage: true });
    await page.context().close();

    // The delete link deletes.
    page = await open(a.del);
    await page.waitForSelector('#delete-gate:not([hidden])');
    await page.click('#confirm-delete');
    check('the delete link deletes the paste', /was deleted/.test(await messageOf(page)));
    await page.context().close();
    page = await open(a.link);
    check('a deleted paste is gone', /does not exist/.test(await messageOf(page)));
    await page.context().close();
    }

    // DOMPurify parses the Markdown's <img onerror> in a document of its
    // own, and Chromium reports the CSP blocking that handler: the one
    // report expected, on the Markdown page only.
    const unexpected = cspErrors.filter(e => !m || !e.startsWith(m.link));
    check('no CSP violation or page error (the strict CSP holds the page)', unexpected.length === 0, unexpected.slice(0, 3).join(' | '));
    const keys = [a, pw, m, c, b, f, dc].filter(Boolean).map(x => x.link.split('#')[1]);
    const leaks = traffic.filter(t => keys.some(k => t.includes(k)) || t.includes(plain) || t.includes('guarded by') || t.includes('only readers of'));
    check('no request the pages sent holds a key or a plaintext', leaks.length === 0, leaks.slice(0, 2).join(' | '));
  } catch (e) {
    check('browser session', false, e.message.split('\n')[0]);
  } finally {
    await browser.close();
  }
  process.exitCode = failed ? 1 : 0;
})();
