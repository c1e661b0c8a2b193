// The flame graph's interactions: a tooltip on hover, zoom on click, search (Ctrl-F).
// core/report_svg.c embeds this file after a line that defines spConfig; the
// frames are already drawn, so the picture stands without it (images in
// documents run no script).
(function () {
	'use strict';
	var NS = 'http://www.w3.org/2000/svg';
	var XHTML = 'http://www.w3.org/1999/xhtml';
	var HIGHLIGHT = '#e0129a';
	var cfg = spConfig;
	var svg = document.documentElement;
	var layer = document.getElementById('frames');
	var height = +svg.getAttribute('height');
	var avail = cfg.width - 2 * cfg.pad;
	var kinds = {
		user: 'user code', kernel: 'kernel', inline: 'inlined', label: 'label',
		unknown: 'unknown code', process: 'thread', root: 'all stacks'
	};
	var frames = [];
	var zoomed = null;	// the frame zoomed into; null when the whole graph shows
	var hovered = null;

	function el(name, attrs, parent) {
		var e = document.createElementNS(NS, name);
		for (var k in attrs)
			e.setAttribute(k, attrs[k]);
		if (parent)
			parent.appendChild(e);
		return e;
	}

	// Values as a person reads them, by the unit the report gives them.
	function commas(v) {
		return String(v).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
	}

	function fmt(v) {
		var x = v, i = 0, units;

		if (cfg.unit === 'nanoseconds' || cfg.unit === 'microseconds') {
			units = ['ns', '\u00b5s', 'ms', 's'];
			if (cfg.unit === 'microseconds')
				x *= 1000;
			for (; x >= 1000 && i < 3; i++)
				x /= 1000;
			return (i ? +x.toPrecision(3) : x) + ' ' + units[i];
		}
		if (cfg.unit === 'bytes') {
			units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
			for (; x >= 1024 && i < 4; i++)
				x /= 1024;
			return (i ? x.toFixed(1) : x) + ' ' + units[i];
		}
		return commas(v) + ' ' + (cfg.type && cfg.type !== 'samples' ? cfg.type : 'samples');
	}

	function pct(v, total) {
		return total ? (100 * v / total).toFixed(2) + '%' : '-';
	}

	// The same rule as the writer's: the whole name, or its start and "..".
	function label(name, w) {
		var fit = Math.floor((w - 6) / cfg.charW), chars;

		if (fit < cfg.labelMin)
			return '';
		chars = Array.from(name);
		if (chars.length <= fit)
			return name;
		return chars.slice(0, fit - 2).join('') + '..';
	}

	// Frames as drawn: depth from the row, span [o, o + v) in units of value.
	(function collect() {
		// A static list: a live one would be walked again after every change below.
		var gs = layer.querySelectorAll('#frames > g');

		for (var i = 0; i < gs.length; i++) {
			var g = gs[i];
			var title = g.getElementsByTagName('title')[0];
			var rect = g.getElementsByTagName('rect')[0];
			var y = +rect.getAttribute('y');
			var row = Math.round((y - cfg.top) / cfg.row);
			var f = {
				g: g, rect: rect, text: g.getElementsByTagName('text')[0] || null,
				name: title ? title.textContent : '', kind: g.getAttribute('class'),
				v: +g.getAttribute('data-v'), o: +g.getAttribute('data-o'),
				b: +(g.getAttribute('data-b') || 0), y: y,
				d: cfg.reverse ? row : cfg.maxDepth - row,
				fill: rect.getAttribute('fill')
			};
			// The tooltip below replaces the browser's own, which would show as well.
			if (title)
				g.removeChild(title);
			g.setAttribute('data-name', f.name);
			g.spIndex = i;
			frames.push(f);
		}
	})();

	function place(f, x, w) {
		var text = label(f.name, w);

		f.rect.setAttribute('x', x.toFixed(2));
		f.rect.setAttribute('width', w.toFixed(2));
		if (!f.text && text)
			f.text = el('text', { y: f.y + 11.5 }, f.g);
		if (f.text) {
			f.text.setAttribute('x', (x + 3).toFixed(2));
			f.text.textContent = text;
		}
	}

	// Controls: made here, since they do nothing without the script.
	var reset = el('text', { x: cfg.pad, y: 60, id: 'reset', visibility: 'hidden',
				  style: 'fill: #1a55c0; text-decoration: underline; cursor: pointer' }, svg);
	reset.textContent = 'Reset zoom';
	var matched = el('text', { x: cfg.width - cfg.pad - 216, y: 60, id: 'matched',
				    style: 'text-anchor: end; fill: #8a0a5f' }, svg);
	var hint = el('text', { x: cfg.width - cfg.pad, y: height - 12, class: 'legend',
				 style: 'text-anchor: end' }, svg);
	hint.textContent = 'hover: details \u00b7 click: zoom \u00b7 Ctrl-F: search';
	var box = el('foreignObject', { x: cfg.width - cfg.pad - 208, y: 46, width: 208,
					height: 20 }, svg);
	var input = document.createElementNS(XHTML, 'input');
	input.setAttribute('type', 'search');
	input.setAttribute('id', 'search');
	input.setAttribute('placeholder', 'search (regex)');
	input.setAttribute('style', 'width: 200px; height: 16px; font: 12px monospace; ' +
			   'box-sizing: content-box; margin: 0; padding: 1px 3px; border: 1px solid #aaa');
	box.appendChild(input);

	var tip = el('g', { id: 'tooltip', visibility: 'hidden', 'pointer-events': 'none' }, svg);
	var tipBox = el('rect', { rx: 3, fill: '#fffff6', stroke: '#777', 'fill-opacity': 0.97 }, tip);
	var tipText = el('text', {}, tip);

	function zoom(z) {
		var s = avail / z.v;

		for (var i = 0; i < frames.length; i++) {
			var f = frames[i];
			var inside = f.d >= z.d && f.o >= z.o && f.o + f.v <= z.o + z.v;
			var above = f.d < z.d && f.o <= z.o && f.o + f.v >= z.o + z.v;

			if (inside)
				place(f, cfg.pad + (f.o - z.o) * s, f.v * s);
			else if (above)
				place(f, cfg.pad, avail);
			f.g.classList.toggle('hid', !inside && !above);
			f.g.classList.toggle('anc', above);
		}
		zoomed = z.d > 0 ? z : null;
		reset.setAttribute('visibility', zoomed ? 'visible' : 'hidden');
	}

	function search(term) {
		var re = null, hits = [], sum = 0, end = -1;

		if (term) {
			try {
				re = new RegExp(term);
			} catch (e) {
				// Not a valid expression: the text as it is.
				re = new RegExp(term.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
			}
		}
		for (var i = 0; i < frames.length; i++) {
			var f = frames[i], hit = re !== null && f.d > 0 && re.test(f.name);

			f.rect.setAttribute('fill', hit ? HIGHLIGHT : f.fill);
			f.g.classList.toggle('match', hit);
			if (hit)
				hits.push(f);
		}
		// The union of the matches' spans: a match inside another counts once.
		hits.sort(function (a, b) { return a.o - b.o || b.v - a.v; });
		for (var j = 0; j < hits.length; j++) {
			var h = hits[j];

			if (h.o >= end) {
				sum += h.v;
				end = h.o + h.v;
			} else if (h.o + h.v > end) {
				sum += h.o + h.v - end;
				end = h.o + h.v;
			}
		}
		matched.textContent = re ? 'Matched: ' + pct(sum, cfg.total) : '';
	}

	function tipLines(f) {
		var lines = [], max = Math.max(20, Math.floor((cfg.width - 40) / cfg.charW));

		for (var i = 0; i < f.name.length; i += max)
			lines.push(f.name.slice(i, i + max));
		if (cfg.diff) {
			var change = (cfg.total ? f.v / cfg.total : 0) -
				     (cfg.totalBase ? f.b / cfg.totalBase : 0);

			lines.push('after:  ' + fmt(f.v) + ' (' + pct(f.v, cfg.total) + ')');
			lines.push('before: ' + fmt(f.b) + ' (' + pct(f.b, cfg.totalBase) + ')');
			lines.push('change: ' + (change >= 0 ? '+' : '') + (100 * change).toFixed(2) +
				   ' points of the total');
		} else {
			lines.push(fmt(f.v) + ', ' + pct(f.v, cfg.total) + ' of the total');
			if (zoomed && f !== zoomed && f.d > zoomed.d)
				lines.push(pct(f.v, zoomed.v) + ' of ' + zoomed.name);
		}
		lines.push(kinds[f.kind] || f.kind);
		return lines;
	}

	function showTip(f, evt) {
		var pt = svg.createSVGPoint(), lines = tipLines(f), bb, x, y;

		if (hovered !== f) {
			hovered = f;
			while (tipText.firstChild)
				tipText.removeChild(tipText.firstChild);
			for (var i = 0; i < lines.length; i++) {
				var t = el('tspan', { x: 8, dy: i ? 15 : 0 }, tipText);

				t.textContent = lines[i];
				if (i === 0)
					t.setAttribute('font-weight', 'bold');
			}
			tipText.setAttribute('y', 16);
			tip.setAttribute('visibility', 'visible');
			bb = tipText.getBBox();
			tipBox.setAttribute('width', bb.width + 16);
			tipBox.setAttribute('height', bb.height + 10);
		}
		pt.x = evt.clientX;
		pt.y = evt.clientY;
		pt = pt.matrixTransform(svg.getScreenCTM().inverse());
		bb = tipBox.getBBox();
		x = pt.x + 14;
		y = pt.y + 18;
		if (x + bb.width > cfg.width - 2)
			x = Math.max(2, pt.x - 14 - bb.width);
		if (y + bb.height > height - 2)
			y = Math.max(2, pt.y - 10 - bb.height);
		tip.setAttribute('transform', 'translate(' + x.toFixed(1) + ',' + y.toFixed(1) + ')');
	}

	function frameOf(evt) {
		var g = evt.target.closest ? evt.target.closest('#frames > g') : null;

		return g && g.spIndex !== undefined ? frames[g.spIndex] : null;
	}

	layer.addEventListener('mousemove', function (evt) {
		var f = frameOf(evt);

		if (f)
			showTip(f, evt);
	});
	layer.addEventListener('mouseleave', function () {
		hovered = null;
		tip.setAttribute('visibility', 'hidden');
	});
	layer.addEventListener('click', function (evt) {
		var f = frameOf(evt);

		if (f) {
			zoom(f);
			hovered = null;
			showTip(f, evt);
		}
	});
	reset.addEventListener('click', function () {
		zoom(frames[0]);
	});
	input.addEventListener('input', function () {
		search(input.value);
	});
	input.addEventListener('keydown', function (evt) {
		if (evt.key === 'Escape') {
			input.value = '';
			search('');
			input.blur();
		}
	});
	document.addEventListener('keydown', function (evt) {
		if ((evt.ctrlKey || evt.metaKey) && (evt.key === 'f' || evt.key === 'F')) {
			evt.preventDefault();
			input.focus();
			input.select();
		}
	});
})();
