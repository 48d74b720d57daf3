// node_x12.js FILE - node-x12 (npm) full parse of FILE: MB/s and peak RSS.
const fs = require('fs');
const { X12Parser } = require('node-x12');
const file = process.argv[2];
const text = fs.readFileSync(file, 'utf8');
const t0 = process.hrtime.bigint();
const c0 = process.cpuUsage();
const ic = new X12Parser(true).parse(text);
const dt = Number(process.hrtime.bigint() - t0) / 1e9;
const cu = process.cpuUsage(c0);
const dc = (cu.user + cu.system) / 1e6;
let segs = 0;
for (const g of ic.functionalGroups) for (const t of g.transactions) segs += t.segments.length;
const rss = process.resourceUsage().maxRSS;
console.log(`mode=node-x12 mb_s=${(Buffer.byteLength(text) / dt / 1e6).toFixed(1)} cpu_mb_s=${(Buffer.byteLength(text) / dc / 1e6).toFixed(1)} seconds=${dt.toFixed(3)} segments=${segs} peak_rss_kb=${rss}`);
