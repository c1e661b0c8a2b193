// Drives stackprof's SVG flame graph in headless chromium: widths as drawn,
// the tooltip, zoom and reset, search and its matched share.
//
//   node flamegraph.js SHAPE.svg CAPTURE.svg OUTDIR
//
// SHAPE.svg is a graph of work_a/work_b/work_c at exactly 1:2:3 (under
// main;run, spin above each); CAPTURE.svg one of a perf script capture of the
// cpushare workload. Screenshots go to OUTDIR. Prints one line per check and
// exits non-zero on the first failure (or after 50 s, whatever it is doing).
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const [shapeSvg, captureSvg, outDir] = process.argv.slice(2);
const AVAIL = 1180; // the default width less the 10 px margins
const HIGHLIGHT = '#e0129a';
// The network is closed here: nothing in the background may try it.
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
	      '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let failures = 0;

function check(cond, what, detail) {
	console.log((cond ? 'ok   ' : 'FAIL ') + what + (detail !== undefined ? ': ' + detail : ''));
	if (!cond)
		failures++;
	return cond;
}

const deadline = setTimeout(() => {
	console.log('FAIL the browser test did not finish within 50 s');
	process.exit(1);
}, 50000);

const frame = (name) => `#frames > g[data-name="${name}"]`;

// The drawn width of a frame, as the browser lays it out (CSS px at zoom 1).
async function width(page, name) {
	const box = await page.locator(frame(name) + ' rect').boundingBox();
	return box ? box.width : 0;
}

async function shown(page, name) {
	return page.locator(frame(name)).evaluate((g) => !g.classList.contains('hid') &&
		getComputedStyle(g).display !== 'none');
}

async function tooltip(page) {
	return page.locator('#tooltip').evaluate((t) => ({
		visible: t.getAttribute('visibility') === 'visible',
		text: Array.from(t.querySelectorAll('tspan')).map((s) => s.textContent).join('\n'),
	}));
}

async function open(context, svg) {
	const page = await context.newPage();
	const errors = [];

	page.on('pageerror', (e) => errors.push(e.message));
	await page.setViewportSize({ width: 1200, height: 300 });
	await page.goto('file://' + path.resolve(svg));
	await page.waitForSelector('#search');
	return { page, errors };
}

async function shape(context) {
	const { page, errors } = await open(context, shapeSvg);
	const w = {};

	console.log('-- ' + shapeSvg);
	for (const name of ['work_a', 'work_b', 'work_c'])
		w[name] = await width(page, name);
	check(Math.abs(w.work_c / w.work_a - 3) <= 0.06, 'work_c : work_a is 3 (within 2%)',
	      (w.work_c / w.work_a).toFixed(4));
	check(Math.abs(w.work_b / w.work_a - 2) <= 0.04, 'work_b : work_a is 2 (within 2%)',
	      (w.work_b / w.work_a).toFixed(4));
	check(Math.abs(w.work_a + w.work_b + w.work_c - AVAIL) <= 0.1,
	      'the three fill the width under run', (w.work_a + w.work_b + w.work_c).toFixed(2));

	// Hover: name, value with its unit, share of the total.
	await page.hover(frame('work_c') + ' rect');
	let tip = await tooltip(page);
	check(tip.visible && tip.text.startsWith('work_c') && tip.text.includes('3,000 samples') &&
	      tip.text.includes('50.00% of the total'), 'hovering work_c shows its value and percent',
	      JSON.stringify(tip.text));

	// Click: work_b takes the whole width; its ancestors stay, its siblings go.
	await page.click(frame('work_b') + ' rect');
	await page.mouse.move(5, 5); // the hover outline is not part of the frame's width
	const zb = await width(page, 'work_b');
	check(Math.abs(zb - AVAIL) <= 0.5, 'clicking work_b zooms it to the full width', zb.toFixed(2));
	check(Math.abs(await width(page, 'run') - AVAIL) <= 0.5 && await shown(page, 'main') &&
	      await shown(page, 'all'), 'its ancestors stay in view, full width');
	check(!(await shown(page, 'work_a')) && !(await shown(page, 'work_c')),
	      'its siblings are hidden');
	check(await page.locator('#reset').getAttribute('visibility') === 'visible',
	      '"Reset zoom" shows while zoomed');
	await page.hover(frame('work_b') + ' rect');
	tip = await tooltip(page);
	check(tip.text.includes('33.33% of the total'), 'percent still of the total when zoomed',
	      JSON.stringify(tip.text));
	const zoomShot = path.join(outDir, 'flamegraph-zoomed.png');
	await page.screenshot({ path: zoomShot });
	console.log('screenshot: ' + zoomShot);
	await page.click('#reset');
	check(Math.abs(await width(page, 'work_b') - w.work_b) <= 0.05 &&
	      await shown(page, 'work_a'), '"Reset zoom" restores the whole graph');
	check(await page.locator('#reset').getAttribute('visibility') === 'hidden',
	      '"Reset zoom" hides again');

	// Ctrl-F reaches the search box; a regular expression highlights its matches.
	await page.mouse.move(5, 5);
	await page.keyboard.press('Control+f');
	check(await page.evaluate(() => document.activeElement &&
				  document.activeElement.id === 'search'), 'Ctrl-F focuses the search box');
	await page.keyboard.type('work_');
	let matched = await page.textContent('#matched');
	check(matched === 'Matched: 100.00%', 'searching "work_" matches 100%', matched);
	const hits = await page.$$eval('#frames > g.match', (gs) => gs.map((g) =>
		g.getAttribute('data-name') + '=' + g.querySelector('rect').getAttribute('fill')));
	check(JSON.stringify(hits.sort()) === JSON.stringify(
		['work_a', 'work_b', 'work_c'].map((n) => n + '=' + HIGHLIGHT)),
	      'exactly work_a, work_b and work_c are highlighted', hits.join(' '));
	await page.fill('#search', 'work_[ab]$');
	matched = await page.textContent('#matched');
	check(matched === 'Matched: 50.00%', 'searching /work_[ab]$/ matches 50%', matched);
	await page.fill('#search', 'spin|work_c');
	matched = await page.textContent('#matched');
	check(matched === 'Matched: 100.00%', 'a match inside a match counts once', matched);
	await page.press('#search', 'Escape');
	check(await page.textContent('#matched') === '' &&
	      await page.$$eval('#frames > g.match', (gs) => gs.length) === 0,
	      'Escape clears the search');
	check(errors.length === 0, 'no script errors', errors.join('; '));
	await page.close();
}

async function capture(context) {
	const { page, errors } = await open(context, captureSvg);

	console.log('-- ' + captureSvg);
	// Widths against the values the writer put in the file (the capture is not exactly 1:2:3).
	const v = {};
	for (const name of ['work_a', 'work_c'])
		v[name] = +(await page.locator(frame(name)).getAttribute('data-v'));
	const ratio = (await width(page, 'work_c')) / (await width(page, 'work_a'));
	check(Math.abs(ratio / (v.work_c / v.work_a) - 1) <= 0.02,
	      'work_c : work_a as drawn is the ratio of their values (within 2%)',
	      ratio.toFixed(4) + ' vs ' + (v.work_c / v.work_a).toFixed(4));
	check(ratio > 2.2 && ratio < 3.4, 'and the hot function is about 3x work_a',
	      ratio.toFixed(3));

	await page.keyboard.press('Control+f');
	await page.keyboard.type('work_');
	const matched = await page.textContent('#matched');
	const pct = parseFloat(matched.replace(/^Matched: /, ''));
	check(pct >= 95, 'searching "work_" in the capture matches ~100%', matched);
	await page.hover(frame('work_c') + ' rect');
	const tip = await tooltip(page);
	check(tip.visible && /\d+(\.\d+)? ms, \d+\.\d\d% of the total/.test(tip.text),
	      'the tooltip gives CPU time (cpu-clock periods) and percent', JSON.stringify(tip.text));
	const shot = path.join(outDir, 'flamegraph-capture.png');
	await page.screenshot({ path: shot });
	console.log('screenshot: ' + shot);
	check(errors.length === 0, 'no script errors', errors.join('; '));
	await page.close();
}

(async () => {
	const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'stackprof-chromium-'));
	let context;

	try {
		context = await chromium.launchPersistentContext(profile, {
			executablePath: '/usr/bin/chromium', headless: true, args: ARGS,
		});
		await shape(context);
		await capture(context);
	} finally {
		if (context)
			await context.close();
		fs.rmSync(profile, { recursive: true, force: true });
	}
	clearTimeout(deadline);
	console.log(failures ? failures + ' check(s) failed' : 'all checks passed');
	process.exit(failures ? 1 : 0);
})().catch((e) => {
	console.log('FAIL ' + (e && e.stack ? e.stack : e));
	process.exit(1);
});
