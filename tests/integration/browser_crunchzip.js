// Drives Debian's chromium through playwright-core against a running
// crunchzip: node browser_crunchzip.js URL SCREENSHOT.  Prints the runner's
// protocol lines; run by browser_crunchzip.py, which starts the server.
'use strict';
const { chromium } = require('playwright-core');

const [url, shot, zipOut, ...uploads] = process.argv.slice(2);
let failed = 0;
function check(name, cond, why) {
  if (cond) console.log(`ok - ${name}`);
  else { failed++; console.log(`not ok - ${name}${why !== undefined ? ': ' + String(why).replace(/\n/g, ' ') : ''}`); }
}

(async () => {
  let browser;
  try {
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
             '--disable-component-update', '--disable-sync', '--no-first-run',
             // browser_https.py: the test CA's certificate trusted by its SPKI hash
             ...(process.env.UWEB_CHROMIUM_ARGS || '').split(' ').filter(Boolean)],
    });
  } catch (e) {
    // chromium is a declared dependency: not launching is a failure.
    console.log(`not ok - browser: chromium does not launch: ${e.message.split('\n')[0]}`);
    process.exitCode = 1;
    return;
  }
  try {
    const context = await browser.newContext({ viewport: { width: 900, height: 700 }, acceptDownloads: true });
    const page = await context.newPage();
    const responses = {};
    page.on('response', r => { responses[new URL(r.url()).pathname] = r; });
    const resp = await page.goto(url + '/', { waitUntil: 'load' });
    check('the page loads (200)', resp && resp.status() === 200, resp && resp.status());
    check('the title is Crunch & Zip', (await page.title()) === 'Crunch & Zip', await page.title());
    if (url.startsWith('https:'))
      check('the page is a secure context (WebCrypto available)',
            await page.evaluate(() => window.isSecureContext && !!window.crypto.subtle), 'isSecureContext false');
    // browser_https.py: the protocol ALPN chose for the page ("h2")
    const want = process.env.UWEB_EXPECT_PROTOCOL;
    if (want) {
      const proto = await page.evaluate(() => performance.getEntries()[0].nextHopProtocol);
      check(`the page came over ${want} (performance.getEntries()[0].nextHopProtocol)`, proto === want, proto);
    }

    const css = responses['/style.css'];
    check('style.css was fetched', css && css.status() === 200, css && css.status());
    if (css) {
      const h = await css.allHeaders();
      check('style.css came compressed (the browser asked for it)', ['gzip', 'br'].includes(h['content-encoding']),
            h['content-encoding']);
      check('style.css has text/css', (h['content-type'] || '').startsWith('text/css'), h['content-type']);
    }
    const h1 = await page.$eval('h1', e => getComputedStyle(e).color);
    check('h1 has the colour style.css gives it', h1 === 'rgb(29, 78, 137)', h1);
    const border = await page.$eval('fieldset', e => getComputedStyle(e).borderTopStyle);
    check('the fieldset has the dashed border of style.css', border === 'dashed', border);

    const form = await page.$eval('form', f => ({ action: f.action, method: f.method, enctype: f.enctype }));
    check('the form posts multipart/form-data to /upload',
          form.action === url + '/upload' && form.method === 'post' && form.enctype === 'multipart/form-data',
          JSON.stringify(form));
    const inputs = page.locator('form input[type=file]');
    const removes = page.getByRole('button', { name: 'Remove' });
    check('one file input at first, required, named files[]', (await inputs.count()) === 1
          && await inputs.nth(0).evaluate(e => e.required && e.name === 'files[]'), await inputs.count());
    check('the first field has no Remove button', (await removes.count()) === 0, await removes.count());
    await page.getByRole('button', { name: '+ Add a field' }).click();
    check('"+ Add a field" adds a file input', (await inputs.count()) === 2, await inputs.count());
    await page.getByRole('button', { name: '+ Add a field' }).click();
    check('and another: three fields', (await inputs.count()) === 3, await inputs.count());
    check('each added field has its Remove button', (await removes.count()) === 2, await removes.count());
    const names = await inputs.evaluateAll(els => els.map(e => e.name + (e.required ? '!' : '')));
    check('every file input is files[] and required', names.every(n => n === 'files[]!'), JSON.stringify(names));
    check('the submit button says Start archiving',
          (await page.getByRole('button', { name: 'Start archiving' }).count()) === 1, 'no such button');
    await page.screenshot({ path: shot, fullPage: true });
    await removes.nth(1).click();
    check('"Remove" takes its field away', (await inputs.count()) === 2 && (await removes.count()) === 1,
          `${await inputs.count()} fields`);

    // A reload revalidates with the ETag (Cache-Control: no-cache).
    const etag = (await resp.allHeaders())['etag'];
    const again = await page.reload({ waitUntil: 'load' });
    const sent = again ? await again.request().allHeaders() : {};
    check('a reload revalidates the page with its ETag', etag && sent['if-none-match'] === etag,
          `${sent['if-none-match']} vs ${etag}`);

    // The whole service: three fields, one removed, a file in each of the
    // other two, "Start archiving": the progress bar goes to 100% and the
    // archive downloads (the wrapper checks its contents).
    if (zipOut && uploads.length >= 2) {
      await page.getByRole('button', { name: '+ Add a field' }).click();
      await page.getByRole('button', { name: '+ Add a field' }).click();
      await page.getByRole('button', { name: 'Remove' }).nth(0).click();
      const fields = page.locator('form input[type=file]');
      check('three fields, one removed: two left', (await fields.count()) === 2, await fields.count());
      await fields.nth(0).setInputFiles(uploads[0]);
      await fields.nth(1).setInputFiles(uploads[1]);
      // every value the bar shows, as the page sets it
      await page.evaluate(() => {
        window.seenProgress = [];
        const bar = document.getElementById('progress');
        const set = Object.getOwnPropertyDescriptor(HTMLProgressElement.prototype, 'value').set;
        Object.defineProperty(bar, 'value', { set(v) { window.seenProgress.push(Number(v)); set.call(this, v); },
                                              get() { return Number(this.getAttribute('value') || 0); } });
      });
      const downloaded = page.waitForEvent('download', { timeout: 60000 });
      const answered = page.waitForResponse(r => new URL(r.url()).pathname === '/upload', { timeout: 60000 });
      downloaded.catch(() => {});
      answered.catch(() => {});
      await page.getByRole('button', { name: 'Start archiving' }).click();
      const first = await Promise.race([downloaded.then(d => ({ d })), answered.then(r => ({ r }))]);
      if (first.r && first.r.status() !== 200) {
        let text = '';
        try { text = (await first.r.text()).slice(0, 160); } catch (e) { /* no body */ }
        check('submitting the form downloads archive.zip', false, `POST /upload answered ${first.r.status()}: ${text}`);
      } else {
        const download = first.d || await downloaded;
        check('submitting the form downloads archive.zip', download.suggestedFilename() === 'archive.zip',
              download.suggestedFilename());
        await download.saveAs(zipOut);
        const seen = await page.evaluate(() => window.seenProgress);
        const shown = await page.$eval('#percent', e => e.textContent);
        check('the progress bar reached 100%', seen.length > 0 && seen[seen.length - 1] === 100 && shown === '100%'
              && seen.every((v, i) => i === 0 || v >= seen[i - 1] || v === 0), `${JSON.stringify(seen)} ${shown}`);
        await page.waitForSelector('#message:not([hidden])', { timeout: 10000 });
        const done = await page.$eval('#message', e => e.textContent);
        check('the page says the archive is done', done.startsWith('Done: archive.zip'), done);
        await page.screenshot({ path: shot.replace(/\.png$/, '-done.png'), fullPage: true });
      }

      // An upload the server refuses: a form without any file (the page's
      // `required` taken away, as an old browser would): its message shows.
      await page.reload({ waitUntil: 'load' });
      await page.evaluate(() => document.querySelectorAll('input[type=file]').forEach(e => { e.required = false; }));
      const refused = page.waitForResponse(r => new URL(r.url()).pathname === '/upload', { timeout: 30000 });
      await page.getByRole('button', { name: 'Start archiving' }).click();
      const r = await refused;
      await page.waitForSelector('#message.error:not([hidden])', { timeout: 10000 }).catch(() => {});
      const msg = await page.$eval('#message', e => e.hidden ? '' : e.textContent);
      check('a refused upload shows the server\'s message', r.status() === 422 && msg.includes('no file in the upload'),
            `${r.status()}: ${msg}`);
      await page.screenshot({ path: shot.replace(/\.png$/, '-refused.png'), fullPage: true });
    }
  } catch (e) {
    check('browser session', false, e.message.split('\n')[0]);
  } finally {
    await browser.close();
  }
  process.exitCode = failed ? 1 : 0;
})();
