// Pasteur's page: encrypts in the browser, decrypts in the browser.  The
// format (version 1) is documented in apps/pasteur/README.md.
'use strict';
(() => {
  const $ = id => document.getElementById(id);
  const enc = new TextEncoder(), dec = new TextDecoder();
  const ITERATIONS = 600000;

  // ------------------------------------------------------------ bytes
  function b64u(bytes) {
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }
  function unb64u(s) {
    if (!/^[A-Za-z0-9_-]*$/.test(s)) throw new Error('not base64url');
    const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4));
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  async function pipe(bytes, stream) {
    const out = new Response(new Blob([bytes]).stream().pipeThrough(stream));
    return new Uint8Array(await out.arrayBuffer());
  }
  const deflate = b => pipe(b, new CompressionStream('deflate-raw'));
  const inflate = b => pipe(b, new DecompressionStream('deflate-raw'));

  // ------------------------------------------------------------ keys
  // The AES-256-GCM key: the fragment's 32 bytes, or with a password
  // SHA-256(fragment key || PBKDF2-SHA256(password, salt, 600000)).
  async function aesKey(fragmentKey, password, salt, iterations) {
    let raw = fragmentKey;
    if (password) {
      const base = await crypto.subtle.importKey('raw', enc.encode(password), 'PBKDF2', false, ['deriveBits']);
      const bits = new Uint8Array(await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, base, 256));
      const both = new Uint8Array(64);
      both.set(fragmentKey, 0);
      both.set(bits, 32);
      raw = new Uint8Array(await crypto.subtle.digest('SHA-256', both));
    }
    return crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']);
  }

  // ------------------------------------------------------------ messages
  function say(text, info) {
    const m = $('message');
    m.textContent = text;
    m.className = info ? 'info' : '';
    m.hidden = !text;
  }
  function show(id) {
    for (const s of ['create', 'created', 'view']) $(s).hidden = s !== id;
  }

  // ------------------------------------------------------------ create
  function setupCreate(clone) {
    show('create');
    const lang = $('lang');
    if (window.hljs && lang.options.length === 1)
      for (const l of hljs.listLanguages().sort()) lang.add(new Option(l, l));
    $('format').onchange = () => { $('lang-label').hidden = $('format').value !== 'code'; };
    if (clone) {
      $('text').value = clone.text;
      $('format').value = clone.format;
      if (clone.lang) lang.value = clone.lang;
    }
    $('format').onchange();
    $('burn').onchange = () => { $('comments').disabled = $('burn').checked; if ($('burn').checked) $('comments').checked = false; };
    $('send').onclick = () => create().catch(e => { say('Could not create the paste: ' + e.message); $('send').disabled = false; });
  }

  async function readFile(file) {
    const data = new Uint8Array(await file.arrayBuffer());
    return { name: file.name, type: file.type || 'application/octet-stream', data: b64u(data) };
  }

  async function create() {
    const text = $('text').value;
    const file = $('file').files[0];
    if (!text && !file) { say('Nothing to paste.'); return; }
    $('send').disabled = true;
    say('Encrypting…', true);
    const payload = { text };
    if (file) payload.attachment = await readFile(file);
    const password = $('password').value;
    const fragmentKey = crypto.getRandomValues(new Uint8Array(32));
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const salt = password ? crypto.getRandomValues(new Uint8Array(16)) : new Uint8Array(0);
    const meta = {
      v: 1, iv: b64u(iv), salt: b64u(salt), iter: password ? ITERATIONS : 0, password: !!password,
      expire: $('expire').value, burn: $('burn').checked, format: $('format').value,
      comments: $('comments').checked && !$('burn').checked,
      lang: $('format').value === 'code' ? $('lang').value : '', comp: 'deflate-raw',
    };
    const adata = JSON.stringify(meta);
    const key = await aesKey(fragmentKey, password, salt, ITERATIONS);
    const sealed = new Uint8Array(await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: enc.encode(adata) }, key,
      await deflate(enc.encode(JSON.stringify(payload)))));
    say('Sending…', true);
    const r = await fetch('/api/paste', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ adata, ct: b64u(sealed) }),
    });
    const answer = await r.json().catch(() => ({ error: r.statusText }));
    if (!r.ok) throw new Error(answer.error || r.status);
    const link = location.origin + '/?' + answer.id + '#' + b64u(fragmentKey);
    const del = location.origin + '/?' + answer.id + '&delete=' + answer.delete_token;
    $('link').value = link;
    $('delete-link').value = del;
    $('open-link').href = link;
    for (const [btn, input] of [['copy-link', 'link'], ['copy-delete', 'delete-link']])
      $(btn).onclick = () => { $(input).select(); navigator.clipboard.writeText($(input).value).then(() => say('Copied.', true), () => document.execCommand('copy')); };
    say('');
    show('created');
    $('send').disabled = false;
  }

  // ------------------------------------------------------------ view
  async function fetchJSON(url, init) {
    const r = await fetch(url, init);
    const body = await r.json().catch(() => ({}));
    return { status: r.status, body };
  }

  function gone(status, body) {
    if (status === 404) say('This paste does not exist: it expired, was burned after reading, or was deleted.');
    else say('The server answered ' + status + ': ' + (body.error || ''));
  }

  async function view(id, keyText) {
    show('view');
    let fragmentKey;
    try { fragmentKey = unb64u(keyText); } catch (e) { fragmentKey = null; }
    if (!fragmentKey || fragmentKey.length !== 32) { say('The link has no valid key after “#”: it cannot be decrypted.'); return; }
    const info = await fetchJSON('/api/paste/' + id + '/info');
    if (info.status !== 200) return gone(info.status, info.body);
    if (info.body.burn) {
      // Link previews fetch pages, not this click: the paste burns only when a person asks.
      $('burn-gate').hidden = false;
      await new Promise(resolve => { $('reveal').onclick = resolve; });
      $('burn-gate').hidden = true;
    }
    const got = await fetchJSON('/api/paste/' + id);
    if (got.status !== 200) return gone(got.status, got.body);
    let meta;
    try {
      meta = JSON.parse(got.body.adata);
      if (meta.v !== 1) throw new Error('version');
    } catch (e) { say('This paste is in a format this page does not know.'); return; }
    if (meta.burn !== !!info.body.burn) { say('The server’s metadata does not match what was sealed with the paste: it was tampered with.'); return; }
    let password = '';
    if (meta.password) {
      $('password-gate').hidden = false;
      $('view-password').focus();
      for (;;) {
        password = await new Promise(resolve => { $('password-gate').onsubmit = e => { e.preventDefault(); resolve($('view-password').value); }; });
        const ok = await decryptAndShow(meta, got.body, fragmentKey, password, true);
        if (ok) break;
      }
      $('password-gate').hidden = true;
      return;
    }
    await decryptAndShow(meta, got.body, fragmentKey, '', false);
  }

  async function decryptAndShow(meta, body, fragmentKey, password, retry) {
    let payload, key;
    try {
      key = await aesKey(fragmentKey, password, unb64u(meta.salt || ''), meta.iter || ITERATIONS);
      const plain = await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: unb64u(meta.iv), additionalData: enc.encode(body.adata) }, key, unb64u(body.ct));
      payload = JSON.parse(dec.decode(await inflate(new Uint8Array(plain))));
    } catch (e) {
      say(meta.password ? 'Could not decrypt: wrong password, or the paste was tampered with.'
                        : 'Could not decrypt: the key in the link is wrong, or the paste was tampered with.');
      return false;
    }
    say(meta.burn ? 'This paste was burned: it is gone from the server; this page is its last copy.' : '', true);
    render(meta, payload);
    if (meta.comments) discussion(key).catch(e => say('Could not load the comments: ' + e.message));
    return true;
  }

  // ------------------------------------------------------------ comments
  // Each comment is {nick, text}, compressed and sealed like the paste,
  // with the paste's key and a fresh IV; its adata is {"v":1,"iv":...}.
  async function seal(key, obj, extra) {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const adata = JSON.stringify(Object.assign({ v: 1, iv: b64u(iv) }, extra));
    const ct = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: enc.encode(adata) },
                                                          key, await deflate(enc.encode(JSON.stringify(obj)))));
    return { adata, ct: b64u(ct) };
  }
  async function unseal(key, sealed) {
    const meta = JSON.parse(sealed.adata);
    const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: unb64u(meta.iv), additionalData: enc.encode(sealed.adata) },
                                              key, unb64u(sealed.ct));
    return JSON.parse(dec.decode(await inflate(new Uint8Array(plain))));
  }
  async function discussion(key) {
    const id = location.search.slice(1).split('&')[0];
    $('discussion').hidden = false;
    const load = async () => {
      const r = await fetchJSON('/api/paste/' + id + '/comments');
      const list = $('comment-list');
      list.textContent = '';
      for (const c of (r.body.comments || [])) {
        const li = document.createElement('li');
        try {
          const m = await unseal(key, c);
          const nick = document.createElement('span');
          nick.className = 'nick';
          nick.textContent = m.nick || 'anonymous';
          li.append(nick, document.createTextNode(m.text || ''));
        } catch (e) {
          li.textContent = '(a comment that does not decrypt with this key: tampered with)';
        }
        list.appendChild(li);
      }
    };
    $('comment-form').onsubmit = async e => {
      e.preventDefault();
      const text = $('comment-text').value;
      if (!text) return;
      const r = await fetchJSON('/api/paste/' + id + '/comments', {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(await seal(key, { nick: $('nick').value, text }, { kind: 'comment' })),
      });
      if (r.status !== 201) { say('The comment was not added: ' + (r.body.error || r.status)); return; }
      $('comment-text').value = '';
      await load();
    };
    await load();
  }

  function render(meta, payload) {
    $('shown').hidden = false;
    const text = payload.text || '';
    const code = $('code'), rendered = $('rendered');
    const words = { '5min': '5 minutes', '10min': '10 minutes', '1hour': '1 hour', '1day': '1 day', '1week': '1 week', '1month': '1 month', '1year': '1 year' };
    const expires = meta.expire === 'never' ? 'never expires' : 'expires after ' + (words[meta.expire] || meta.expire);
    $('meta').textContent = [meta.format === 'code' ? (meta.lang || 'code') : meta.format, meta.burn ? 'burned after reading' : expires].join(' · ');
    code.textContent = text;
    if (meta.format === 'markdown' && window.marked && window.DOMPurify) {
      rendered.innerHTML = DOMPurify.sanitize(marked.parse(text));
      rendered.hidden = false;
      $('plain').hidden = true;
    } else if (meta.format === 'code' && window.hljs) {
      const r = meta.lang && hljs.getLanguage(meta.lang) ? hljs.highlight(text, { language: meta.lang }) : hljs.highlightAuto(text);
      code.innerHTML = r.value;          // highlight.js escapes the text
      code.classList.add('hljs');
    }
    $('raw').onclick = () => {
      code.textContent = text;
      code.classList.remove('hljs');
      rendered.hidden = true;
      $('plain').hidden = false;
    };
    $('download').onclick = () => saveAs(new Blob([text], { type: 'text/plain;charset=utf-8' }), 'paste.txt');
    $('clone').onclick = () => { history.pushState(null, '', '/'); $('shown').hidden = true; say(''); setupCreate({ text, format: meta.format, lang: meta.lang }); };
    if (payload.attachment) {
      const a = payload.attachment;
      const blob = new Blob([unb64u(a.data)], { type: 'application/octet-stream' });
      const link = $('attachment-link');
      link.textContent = a.name;
      link.onclick = e => { e.preventDefault(); saveAs(blob, a.name); };
      $('attachment').hidden = false;
    }
  }

  function saveAs(blob, name) {
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.appendChild(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  }

  async function askDelete(id, token) {
    show('view');
    $('delete-gate').hidden = false;
    await new Promise(resolve => { $('confirm-delete').onclick = resolve; });
    $('delete-gate').hidden = true;
    const r = await fetchJSON('/api/paste/' + id + '?token=' + encodeURIComponent(token), { method: 'DELETE' });
    if (r.status === 200) say('The paste was deleted.', true);
    else if (r.status === 403) say('Wrong delete token: the paste was not deleted.');
    else gone(r.status, r.body);
  }

  // ------------------------------------------------------------ start
  function start() {
    if (!window.isSecureContext || !crypto.subtle) { say('This page needs a secure context (https or localhost) for WebCrypto.'); return; }
    const q = location.search.slice(1).split('&');
    const id = q[0];
    if (!id) return setupCreate(null);
    if (!/^[0-9a-f]{16}$/.test(id)) { say('This is not a paste link.'); return; }
    const del = q.find(p => p.startsWith('delete='));
    if (del) return askDelete(id, del.slice(7)).catch(e => say(e.message));
    view(id, location.hash.slice(1)).catch(e => say('Could not show the paste: ' + e.message));
  }
  start();
})();
