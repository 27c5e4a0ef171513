// Reference side of bench/multipart.sh: busboy parsing the same body from
// memory, fed in the same chunks: one warm-up run for the JIT, then RUNS
// timed runs; prints the median.
//   node multipart_busboy.js BODY CONTENT-TYPE [CHUNK_BYTES [RUNS]]
const fs = require('fs');
const busboy = require('busboy');
const [body, ct] = [fs.readFileSync(process.argv[2]), process.argv[3]];
const chunk = parseInt(process.argv[4] || '65536', 10);
const runs = parseInt(process.argv[5] || '5', 10);

function once() {
  return new Promise((resolve, reject) => {
    let bytes = 0, parts = 0;
    const bb = busboy({ headers: { 'content-type': ct },
                        limits: { fieldSize: Infinity, fileSize: Infinity } });
    bb.on('file', (name, stream) => { parts++; stream.on('data', (d) => { bytes += d.length; }); });
    bb.on('field', (name, val) => { parts++; bytes += val.length; });
    bb.on('error', reject);
    bb.on('close', () => resolve({ bytes, parts }));
    let at = 0;
    (function pump() {
      while (at < body.length) {
        const ok = bb.write(body.subarray(at, at + chunk));
        at += chunk;
        if (!ok) { bb.once('drain', pump); return; }
      }
      bb.end();
    })();
  });
}

(async () => {
  const mbps = [];
  let last = await once();   // warm-up run (JIT), not timed
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    last = await once();
    const t = Number(process.hrtime.bigint() - t0) / 1e9;
    mbps.push(body.length / t / 1e6);
  }
  mbps.sort((a, b) => a - b);
  console.log(`busboy MBps=${mbps[Math.floor(runs / 2)].toFixed(1)} parts=${last.parts} bytes=${last.bytes}`);
})().catch((e) => { console.error(e); process.exit(1); });
