// x12_parser.js FILE - x12-parser (npm) streaming segments of FILE: MB/s
// and peak RSS.
const fs = require('fs');
const { X12parser } = require('x12-parser');
const file = process.argv[2];
const size = fs.statSync(file).size;
const t0 = process.hrtime.bigint();
const c0 = process.cpuUsage();
let segs = 0;
const p = new X12parser();
p.on('data', () => { segs++; });
p.on('error', (e) => { console.error(e); process.exit(1); });
p.on('end', () => {
  const dt = Number(process.hrtime.bigint() - t0) / 1e9;
  const cu = process.cpuUsage(c0);
  const dc = (cu.user + cu.system) / 1e6;
  const rss = process.resourceUsage().maxRSS;
  console.log(`mode=x12-parser mb_s=${(size / dt / 1e6).toFixed(1)} cpu_mb_s=${(size / dc / 1e6).toFixed(1)} seconds=${dt.toFixed(3)} segments=${segs} peak_rss_kb=${rss}`);
});
fs.createReadStream(file).pipe(p);
