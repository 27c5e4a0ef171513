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
    check('one file input at first', (await inputs.count()) === 1, await inputs.count());
    await page.getByRole('button', { name: '+ Add a field' }).click();
    check('"+ Add a field" adds a file input', (await inputs.count()) === 2, await inputs.count());
    await page.getByRole('button', { name: '+ Add a field' }).click();
    check('and another', (await inputs.count()) === 3, await inputs.count());
    const names = await inputs.evaluateAll(els => els.map(e => e.name));
    check('every file input is part of the form', names.every(n => n === 'file'), JSON.stringify(names));
    await page.screenshot({ path: shot, fullPage: true });

    // A reload revalidates with the ETag (Cache-Control: no-cache).
    const etag = (await resp.allHeaders())['etag'];
    const again = await page.reload({ waitUntil: 'load' });
    const sent = again ? await again.request().allHeaders() : {};
    check('a reload revalidates the page with its ETag', etag && sent['if-none-match'] === etag,
          `${sent['if-none-match']} vs ${etag}`);

    // The whole service: pick files in two fields, submit, get the zip
    // (the wrapper checks its contents).
    if (zipOut && uploads.length >= 2) {
      await page.getByRole('button', { name: '+ Add a field' }).click();
      const fields = page.locator('form input[type=file]');
      await fields.nth(0).setInputFiles(uploads[0]);
      await fields.nth(1).setInputFiles(uploads[1]);
      const downloaded = page.waitForEvent('download', { timeout: 60000 });
      const answered = page.waitForResponse(r => new URL(r.url()).pathname === '/upload', { timeout: 60000 });
      downloaded.catch(() => {});
      answered.catch(() => {});
      await page.getByRole('button', { name: 'Crunch & Zip' }).click();
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
      }
    }
  } catch (e) {
    check('browser session', false, e.message.split('\n')[0]);
  } finally {
    await browser.close();
  }
  process.exitCode = failed ? 1 : 0;
})();
