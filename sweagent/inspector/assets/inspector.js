/* swe-ttc run inspector: renders the data embedded in this page (no network).
 *
 * The summary (<script id="summary">) is parsed at load; a trajectory, tree or select record
 * (<script id="pN">) only when its page is opened, so a run of hundreds of instances loads fast.
 * Every text from the run goes into the DOM as text (textContent), never as HTML; the only HTML
 * inserted is the diff highlighting produced (and escaped) by Pygments when the page was written.
 */
(function () {
  'use strict';

  const STAGES = ['understand', 'reproduce', 'localize', 'patch', 'verify', 'submit'];
  const STAGE_COLORS = {
    root: '#8a8f99', understand: '#8e6fc4', reproduce: '#e08a1e', localize: '#2f7fc1',
    patch: '#3f9a3a', verify: '#b9478e', submit: '#5d6470', '': '#9aa0a8',
  };
  const VERDICT_COLORS = { passed: '#2e7d32', failed: '#c62828', open: '#e0a800', none: '#b0b5bd' };
  const PATH_COLOR = '#f1b50f';
  const FOLD_LINES = 14;
  const FOLD_CHARS = 2000;
  const KEEP = 'swe-ttc-inspector-view';

  const summary = JSON.parse(document.getElementById('summary').textContent);
  const run = summary.run;
  const instances = summary.instances;
  const byId = new Map(instances.map((r) => [r.id, r]));
  const cache = new Map();
  const app = document.getElementById('app');
  let charts = [];
  let cy = null;
  const state = { sort: { key: 'id', dir: 1 }, text: '', status: '', evalResult: '', synthFilter: '' };

  // ---- helpers ---------------------------------------------------------------------------------
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k === 'style') el.style.cssText = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }
  // replaceChildren that takes nested arrays and skips empty parts, as h() does
  function fill(el, ...children) {
    el.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false && c !== ''));
    return el;
  }
  function payload(id) {
    if (!id) return null;
    if (cache.has(id)) return cache.get(id);
    const el = document.getElementById(id);
    if (!el) return null;
    const value = JSON.parse(el.textContent);
    cache.set(id, value);
    return value;
  }
  const fmt = {
    int: (v) => (v === null || v === undefined ? '–' : Math.round(v).toLocaleString('en-US')),
    cost: (v) => (v === null || v === undefined ? '–' : '$' + Number(v).toFixed(v >= 1 ? 2 : 4)),
    sec: (v) => (v === null || v === undefined ? '–' : v >= 120 ? (v / 60).toFixed(1) + ' min' : Number(v).toFixed(1) + ' s'),
    num: (v, d = 2) => (v === null || v === undefined ? '–' : Number(v).toFixed(d)),
    pct: (a, b) => (b ? ((100 * a) / b).toFixed(1) + '%' : '–'),
  };
  function statusClass(status) {
    const s = String(status || '');
    if (s.includes('limit')) return 'limit';
    if (s.startsWith('submitted')) return 'submitted';
    if (s.startsWith('error') || s.startsWith('format_error')) return 'error';
    return s.replace(/[^a-z_]/g, '');
  }
  function badge(text, cls) {
    return text ? h('span', { class: 'badge ' + (cls || statusClass(text)), text: text }) : h('span', { class: 'muted', text: '–' });
  }
  function stageChip(stage) {
    return h('span', { class: 'stage', style: 'background:' + (STAGE_COLORS[stage] || STAGE_COLORS['']), text: stage || '?' });
  }
  function link(text, href) { return h('a', { href: href, text: text }); }
  const enc = encodeURIComponent;

  // A long text shows its first lines; the rest is rendered only when asked for.
  function folded(text, cls) {
    text = text || '';
    const lines = text.split('\n');
    const pre = h('pre', { class: cls || '' });
    if (lines.length <= FOLD_LINES && text.length <= FOLD_CHARS) {
      pre.textContent = text;
      return pre;
    }
    const head = lines.slice(0, 8).join('\n').slice(0, FOLD_CHARS / 2);
    pre.textContent = head + '\n…';
    const button = h('button', {
      class: 'fold',
      text: 'show all ' + lines.length.toLocaleString('en-US') + ' lines (' + text.length.toLocaleString('en-US') + ' characters)',
    });
    let open = false;
    button.addEventListener('click', () => {
      open = !open;
      pre.textContent = open ? text : head + '\n…';
      button.textContent = open ? 'fold' : 'show all ' + lines.length.toLocaleString('en-US') + ' lines (' + text.length.toLocaleString('en-US') + ' characters)';
    });
    return h('div', {}, pre, button);
  }
  function diffView(patch) {
    if (!patch) return h('p', { class: 'muted', text: 'no patch' });
    const files = h('div', { class: 'files' },
      patch.files.map((f) => h('div', {}, f.path + ' ', h('span', { class: 'add', text: '+' + f.added }), ' ', h('span', { class: 'del', text: '−' + f.removed }))));
    const body = h('div', {});
    body.innerHTML = patch.html; // produced and escaped by Pygments when the page was written
    return h('div', {}, files, body);
  }
  function kv(pairs) {
    return h('div', { class: 'kv' }, pairs.filter((p) => p && p[1] !== undefined).flatMap(([k, v]) => [h('div', { class: 'k', text: k }), h('div', {}, v === null ? '–' : v)]));
  }
  function destroyViews() {
    charts.forEach((c) => c.destroy());
    charts = [];
    if (cy) { cy.destroy(); cy = null; }
  }

  // ---- run page --------------------------------------------------------------------------------
  const COLUMNS = [
    { key: 'id', label: 'instance' },
    { key: 'exit_status', label: 'exit status' },
    { key: 'eval', label: 'eval', when: () => run.graded },
    { key: 'steps', label: 'steps', num: true },
    { key: 'tokens', label: 'tokens', num: true, show: fmt.int },
    { key: 'cost', label: 'cost', num: true, show: fmt.cost },
    { key: 'seconds', label: 'time', num: true, show: fmt.sec },
    { key: 'spent', label: 'budget spent', num: true, when: () => instances.some((r) => r.spent !== null), show: (v, r) => (v === null ? '–' : fmt.num(v) + (r.budget ? ' / ' + fmt.num(r.budget, 0) : '')) },
    { key: 'candidates', label: 'candidates', num: true, when: () => instances.some((r) => r.marks), get: (r) => (r.marks ? r.marks.candidates : null) },
    { key: 'patch_lines', label: 'patch lines', num: true },
  ];
  const value = (col, row) => (col.get ? col.get(row) : row[col.key]);

  function visibleRows() {
    let rx = null;
    try { rx = state.text ? new RegExp(state.text, 'i') : null; } catch (e) { rx = null; }
    const text = state.text.toLowerCase();
    const rows = instances.filter((r) =>
      (!state.text || (rx ? rx.test(r.id) : r.id.toLowerCase().includes(text))) &&
      (!state.status || r.exit_status === state.status) &&
      (!state.evalResult || (r.eval || 'not graded') === state.evalResult));
    const col = COLUMNS.find((c) => c.key === state.sort.key) || COLUMNS[0];
    const dir = state.sort.dir;
    rows.sort((a, b) => {
      const x = value(col, a), y = value(col, b);
      if (x === y) return a.id < b.id ? -1 : 1;
      if (x === null || x === undefined) return 1;
      if (y === null || y === undefined) return -1;
      return (x < y ? -1 : 1) * dir;
    });
    return rows;
  }

  function renderRunPage() {
    const rows = instances;
    const graded = rows.filter((r) => r.eval);
    const resolved = rows.filter((r) => r.eval === 'resolved').length;
    const total = (k) => rows.reduce((s, r) => s + (r[k] || 0), 0);
    const searched = rows.filter((r) => r.spent !== null);
    const cards = h('div', { class: 'cards' },
      card('instances', fmt.int(rows.length)),
      run.graded ? card('resolved', resolved + ' / ' + rows.length, fmt.pct(resolved, rows.length) + ' of all, ' + graded.length + ' graded') : null,
      card('submitted', fmt.int(rows.filter((r) => String(r.exit_status || '').startsWith('submitted')).length)),
      card('cost', fmt.cost(total('cost'))),
      card('tokens', fmt.int(total('tokens'))),
      card('steps (mean)', fmt.num(total('steps') / Math.max(1, rows.filter((r) => r.steps !== null).length), 1)),
      card('time (sum)', fmt.sec(total('seconds'))),
      searched.length ? card('budget spent (mean)', fmt.num(searched.reduce((s, r) => s + r.spent, 0) / searched.length) + ' rollouts', run.strategy ? run.strategy + ' search' : '') : null);
    const plots = h('div', { class: 'charts', id: 'charts' });
    rowElements = new Map();
    const filters = h('div', { class: 'filters' });
    const tableBox = h('div', { id: 'run-table' });
    fill(app, h('h1', { text: run.name }), h('div', { class: 'muted', text: [run.model, run.strategy && run.strategy + ' search' + (run.budget ? ' · budget ' + run.budget : ''), 'written ' + run.generated_at].filter(Boolean).join(' · ') }),
      cards, plots, filters, tableBox);
    drawRunCharts(plots);

    const statuses = [...new Set(rows.map((r) => r.exit_status).filter(Boolean))].sort();
    const evals = [...new Set(rows.map((r) => r.eval || 'not graded'))].sort();
    const input = h('input', { type: 'search', placeholder: 'filter instances (text or regex)', value: state.text, 'aria-label': 'filter instances' });
    input.addEventListener('input', () => { state.text = input.value; drawTable(tableBox); });
    const status = h('select', { 'aria-label': 'exit status' }, h('option', { value: '', text: 'every exit status' }), statuses.map((s) => h('option', { value: s, text: s, selected: s === state.status })));
    status.addEventListener('change', () => { state.status = status.value; drawTable(tableBox); });
    const ev = run.graded ? h('select', { 'aria-label': 'eval result' }, h('option', { value: '', text: 'every eval result' }), evals.map((s) => h('option', { value: s, text: s, selected: s === state.evalResult }))) : null;
    if (ev) ev.addEventListener('change', () => { state.evalResult = ev.value; drawTable(tableBox); });
    filters.append(input, status, ev || '', h('span', { class: 'muted', id: 'row-count' }));
    drawTable(tableBox);
  }
  function card(k, v, note) {
    return h('div', { class: 'card' }, h('div', { class: 'k', text: k }), h('div', { class: String(v).length > 16 ? 'v long' : 'v', text: v }), note ? h('div', { class: 'k', text: note }) : null);
  }

  // The instance table is a grid of rows, not a <table>: each row lays itself out on its own, so the
  // browser skips rows scrolled out of view (content-visibility) and a run of thousands stays quick.
  // Rows are built once per visit of the run page; sorting and filtering only reorder them.
  let rowElements = new Map();
  function cell(c, content, attrs) {
    return h('div', Object.assign({ role: 'cell', class: 'gt-cell' + (c.num ? ' num' : '') + (c.key === 'id' ? ' mono' : '') }, attrs || {}), content);
  }
  function rowElement(r, cols) {
    if (rowElements.has(r.id)) return rowElements.get(r.id);
    const row = h('div', {
      role: 'row', class: 'gt-row clickable', 'data-instance': r.id,
      onclick: (e) => { if (e.target.tagName !== 'A') location.hash = '#/i/' + enc(r.id); },
    }, cols.map((c) => {
      const v = value(c, r);
      if (c.key === 'exit_status') return cell(c, [badge(v), r.exit_detail && v !== 'submitted' ? h('div', { class: 'detail', text: r.exit_detail.slice(0, 120) }) : null]);
      if (c.key === 'eval') return cell(c, badge(v || ''));
      return cell(c, c.show ? c.show(v, r) : v === null || v === undefined ? '–' : String(v));
    }), h('div', { role: 'cell', class: 'gt-cell' }, r.traj ? link('trajectory', '#/i/' + enc(r.id)) : null, r.tree ? [' · ', link('tree', '#/tree/' + enc(r.id))] : null, r.select ? [' · ', link('select', '#/select/' + enc(r.id))] : null));
    rowElements.set(r.id, row);
    return row;
  }
  function drawTable(box) {
    const cols = COLUMNS.filter((c) => !c.when || c.when());
    const rows = visibleRows();
    const head = h('div', { role: 'row', class: 'gt-head' }, cols.map((c) => {
      const arrow = state.sort.key === c.key ? (state.sort.dir > 0 ? ' ▲' : ' ▼') : '';
      return h('div', {
        role: 'columnheader', class: 'gt-cell sortable' + (c.num ? ' num' : ''), 'data-key': c.key,
        onclick: () => { state.sort = { key: c.key, dir: state.sort.key === c.key ? -state.sort.dir : c.num ? -1 : 1 }; drawTable(box); },
      }, c.label, h('span', { class: 'arrow', text: arrow }));
    }), h('div', { role: 'columnheader', class: 'gt-cell', text: 'pages' }));
    let table = box.querySelector('#instances');
    if (!table) {
      const widths = cols.map((c) => (c.key === 'id' ? 'minmax(180px, 2.2fr)' : c.key === 'exit_status' ? 'minmax(150px, 2fr)' : c.num ? 'minmax(92px, 0.8fr)' : 'minmax(90px, 1fr)'));
      table = h('div', { id: 'instances', role: 'table', class: 'grid-table', style: '--cols: ' + [...widths, 'minmax(120px, 1.2fr)'].join(' ') },
        h('div', { role: 'rowgroup', class: 'gt-header' }), h('div', { role: 'rowgroup', class: 'gt-body' }));
      fill(box, table);
    }
    table.firstChild.replaceChildren(head);
    table.lastChild.replaceChildren(...rows.map((r) => rowElement(r, cols)));
    const count = document.getElementById('row-count');
    if (count) count.textContent = rows.length + ' of ' + instances.length + ' instances';
  }

  function chartBox(title, note) {
    const canvas = h('canvas', {});
    const box = h('div', { class: 'chart' }, h('h3', { text: title }), h('div', { class: 'canvas' }, canvas), note ? h('div', { class: 'note', text: note }) : null);
    return { box, canvas };
  }
  function histogram(values, bins) {
    values = values.filter((v) => v !== null && v !== undefined);
    if (!values.length) return null;
    const lo = Math.min(...values), hi = Math.max(...values);
    const n = hi === lo ? 1 : Math.min(bins, values.length);
    const width = (hi - lo) / n || 1;
    const counts = new Array(n).fill(0);
    values.forEach((v) => { counts[Math.min(n - 1, Math.floor((v - lo) / width))] += 1; });
    return { counts, edges: counts.map((_, i) => lo + i * width), width, single: hi === lo };
  }
  function makeChart(canvas, config) {
    config.options = Object.assign({ animation: false, responsive: true, maintainAspectRatio: false, plugins: { legend: { display: false } } }, config.options || {});
    charts.push(new Chart(canvas, config));
  }
  function countsBy(key) {
    const out = new Map();
    instances.forEach((r) => { const k = r[key] || (key === 'eval' ? 'not graded' : 'unknown'); out.set(k, (out.get(k) || 0) + 1); });
    return [...out.entries()].sort((a, b) => b[1] - a[1]);
  }
  function drawRunCharts(container) {
    if (typeof Chart === 'undefined') return;
    const statuses = countsBy('exit_status');
    const colorOf = (s) => ({ submitted: '#3f9a3a', error: '#c62828', limit: '#e0a800', unfinished: '#2f7fc1' }[statusClass(s)] || '#8a8f99');
    const st = chartBox('Exit statuses');
    container.append(st.box);
    makeChart(st.canvas, { type: 'bar', data: { labels: statuses.map((s) => s[0]), datasets: [{ data: statuses.map((s) => s[1]), backgroundColor: statuses.map((s) => colorOf(s[0])) }] }, options: { indexAxis: 'y' } });
    if (run.graded) {
      const ev = countsBy('eval');
      const colors = { resolved: '#3f9a3a', unresolved: '#c62828', empty_patch: '#e0a800', error: '#7b1fa2' };
      const e = chartBox('Eval results');
      container.append(e.box);
      makeChart(e.canvas, { type: 'bar', data: { labels: ev.map((s) => s[0]), datasets: [{ data: ev.map((s) => s[1]), backgroundColor: ev.map((s) => colors[s[0]] || '#8a8f99') }] }, options: { indexAxis: 'y' } });
    }
    for (const [key, title, show] of [['cost', 'Cost per instance (USD)', (v) => '$' + v.toFixed(3)], ['steps', 'Steps per instance', (v) => String(Math.round(v))]]) {
      const hist = histogram(instances.map((r) => r[key]), 20);
      if (!hist) continue;
      const c = chartBox(title, 'instances per bin');
      container.append(c.box);
      const labels = hist.counts.length === 1 && hist.single ? [show(hist.edges[0])] : hist.edges.map((x) => show(x) + '–' + show(x + hist.width));
      makeChart(c.canvas, { type: 'bar', data: { labels, datasets: [{ data: hist.counts, backgroundColor: '#2f7fc1' }] }, options: { scales: { x: { ticks: { maxRotation: 60, autoSkip: true } } } } });
    }
    const searched = instances.filter((r) => r.marks);
    if (searched.length) {
      const maxBudget = Math.max(...searched.map((r) => Math.max(r.budget || 0, r.spent || 0)), 0.34);
      const points = [...new Set([0, maxBudget, ...searched.flatMap((r) => [r.marks.candidate_at, r.marks.verified_at, r.marks.chosen_at]).filter((x) => x !== null)])].sort((a, b) => a - b);
      const share = (pred) => points.map((b) => ({ x: b, y: (100 * searched.filter((r) => pred(r, b)).length) / searched.length }));
      const datasets = [];
      if (run.graded) datasets.push({ label: 'resolved', data: share((r, b) => r.eval === 'resolved' && r.marks.chosen_at !== null && r.marks.chosen_at <= b + 1e-9), borderColor: '#3f9a3a', backgroundColor: '#3f9a3a', stepped: true });
      datasets.push({ label: 'with a candidate patch', data: share((r, b) => r.marks.candidate_at !== null && r.marks.candidate_at <= b + 1e-9), borderColor: '#2f7fc1', backgroundColor: '#2f7fc1', stepped: true });
      datasets.push({ label: 'with a verified candidate', data: share((r, b) => r.marks.verified_at !== null && r.marks.verified_at <= b + 1e-9), borderColor: '#e08a1e', backgroundColor: '#e08a1e', stepped: true });
      const c = chartBox(run.graded ? 'Resolved rate by budget' : 'Candidates by budget',
        'share of ' + searched.length + ' searched instances, by rollouts spent when the patch appeared' + (run.graded ? ' (resolved: the chosen patch, graded resolved)' : ''));
      container.append(c.box);
      makeChart(c.canvas, { type: 'line', data: { datasets }, options: { plugins: { legend: { display: true, position: 'bottom' } }, scales: { x: { type: 'linear', min: 0, title: { display: true, text: 'rollouts' } }, y: { min: 0, max: 100, title: { display: true, text: '% of instances' } } } } });
    }
  }

  // ---- trajectory page -------------------------------------------------------------------------
  function instanceNav(row, here) {
    const list = visibleRows();
    const i = list.findIndex((r) => r.id === row.id);
    const prev = i > 0 ? list[i - 1] : null, next = i >= 0 && i < list.length - 1 ? list[i + 1] : null;
    return h('div', { class: 'nav-row' },
      link('← run', '#/'),
      row.traj ? (here === 'traj' ? h('b', { text: 'trajectory' }) : link('trajectory', '#/i/' + enc(row.id))) : null,
      row.tree ? (here === 'tree' ? h('b', { text: 'search tree' }) : link('search tree', '#/tree/' + enc(row.id))) : null,
      row.select ? (here === 'select' ? h('b', { text: 'selection' }) : link('selection', '#/select/' + enc(row.id))) : null,
      h('span', { style: 'margin-left:auto' }, prev ? link('‹ ' + prev.id, '#/' + (here === 'tree' && prev.tree ? 'tree' : 'i') + '/' + enc(prev.id)) : null, prev && next ? ' · ' : '', next ? link(next.id + ' ›', '#/' + (here === 'tree' && next.tree ? 'tree' : 'i') + '/' + enc(next.id)) : null));
  }
  function stageLegend(stages) {
    return h('div', { class: 'legend' }, stages.map((s) => h('span', {}, h('span', { class: 'sw', style: 'background:' + (STAGE_COLORS[s] || STAGE_COLORS['']) }), s)));
  }
  function renderTrajectoryPage(row, traj, title, here = 'traj') {
    if (!traj) { fill(app, instanceNav(row, here), h('p', { text: 'No trajectory for ' + row.id + '.' })); return; }
    const steps = traj.steps || [];
    const stagesSeen = [...new Set(steps.map((s) => s.stage))].sort((a, b) => STAGES.indexOf(a) - STAGES.indexOf(b));
    const totals = steps.reduce((t, s) => ({ model: t.model + s.model_s, tool: t.tool + s.tool_s, tokens: t.tokens + s.in_tok + s.out_tok, cost: t.cost + s.cost }), { model: 0, tool: 0, tokens: 0, cost: 0 });
    const list = h('div', { id: 'steps' });
    const strip = h('div', { class: 'strip', title: 'steps by stage; click to jump' }, steps.map((s, i) => h('span', {
      style: 'background:' + (STAGE_COLORS[s.stage] || STAGE_COLORS['']), title: '#' + s.i + ' ' + s.stage,
      onclick: () => { const el = document.getElementById('step-' + i); el.scrollIntoView({ block: 'center' }); el.classList.add('flash'); setTimeout(() => el.classList.remove('flash'), 900); },
    })));
    fill(app, 
      instanceNav(row, here),
      h('h1', { text: title || traj.id }),
      h('div', { class: 'cards' },
        card('exit status', traj.exit_status || '–', traj.exit_detail ? traj.exit_detail.slice(0, 160) : ''),
        traj.eval ? card('eval', traj.eval.status, traj.eval.detail.slice(0, 160)) : null,
        card('steps', fmt.int(steps.length)), card('tokens', fmt.int(totals.tokens)), card('cost', fmt.cost(totals.cost)),
        card('time', fmt.sec(traj.seconds), 'model ' + fmt.sec(totals.model) + ' · tools ' + fmt.sec(totals.tool)),
        traj.model ? card('model', traj.model) : null),
      traj.problem ? h('details', { class: 'section', open: steps.length === 0 ? null : true }, h('summary', { text: 'Issue' }), h('div', { style: 'white-space:pre-wrap', text: traj.problem })) : null,
      steps.length ? [h('h2', { text: 'Steps' }), stageLegend(stagesSeen), strip, list] : (traj.no_trajectory ? h('p', { class: 'muted', text: 'No trajectory in this run folder for this instance (predictions only).' }) : null),
      traj.baseline ? baselineSection(traj.baseline) : null,
      h('h2', { text: 'Final patch' }), h('div', { class: 'section diff-box' }, diffView(traj.patch)),
      traj.eval ? [h('h2', { text: 'Evaluation' }), evalSection(traj.eval)] : null);
    list.append(...steps.map(stepView));
  }
  function baselineSection(b) {
    const kinds = Object.entries(b.counts).filter(([, n]) => n > 0);
    const said = kinds.length ? kinds.map(([k, n]) => n + ' ' + k).join(', ') + ' when the run started (in the image, not the agent\'s work, not in the patch)' : 'clean: nothing changed or untracked when the run started';
    return h('details', { class: 'section', id: 'baseline' }, h('summary', { text: 'Start state: ' + said }),
      kinds.map(([k, n]) => [h('div', { class: 'label', text: k + (b.paths[k].length < n ? ' (first ' + b.paths[k].length + ' of ' + n + ')' : '') }),
        h('pre', { text: b.paths[k].join('\n') })]));
  }
  function stepView(s, i) {
    const color = STAGE_COLORS[s.stage] || STAGE_COLORS[''];
    const a = s.action;
    return h('div', { class: 'step', id: 'step-' + i, style: 'border-left-color:' + color },
      h('div', { class: 'head' }, h('span', { class: 'muted mono', text: '#' + s.i }), stageChip(s.stage),
        h('span', { class: 'call', text: a ? a.call : s.format_error ? '(format error: no action)' : '(no action)' }),
        h('span', { class: 'metrics', text: 'model ' + fmt.num(s.model_s) + ' s · tool ' + fmt.num(s.tool_s) + ' s · ' + fmt.int(s.in_tok + s.out_tok) + ' tok · ' + fmt.cost(s.cost) })),
      s.thought ? h('div', { class: 'thought', text: s.thought }) : null,
      a ? a.blocks.map(([k, v]) => [h('div', { class: 'label', text: k }), folded(v)]) : null,
      h('div', { class: 'label', text: 'observation' }), folded(s.obs, 'obs'));
  }
  function evalSection(ev) {
    const cats = Object.entries(ev.tests || {});
    return h('div', { class: 'section', id: 'eval' },
      kv([['result', badge(ev.status)], ['detail', ev.detail || '–'], ev.applied === null || ev.applied === undefined ? null : ['patch applied', ev.applied ? 'yes' : 'no']]),
      cats.length ? h('table', { style: 'margin-top:8px' }, h('thead', {}, h('tr', {}, h('th', { text: 'tests' }), h('th', { class: 'num', text: 'passing' }), h('th', { text: 'failing' }))),
        h('tbody', {}, cats.map(([cat, t]) => h('tr', {}, h('td', { class: 'mono', text: cat }), h('td', { class: 'num', text: t.passed }),
          h('td', { class: 'mono failing' }, t.failing.length ? t.failing.map((x) => h('div', { text: x })) : h('span', { class: 'muted', text: 'none' })))))) : null,
      ev.log_tail ? h('details', {}, h('summary', { text: 'test output (tail)' }), h('pre', { class: 'obs', text: ev.log_tail })) : null);
  }

  // ---- search tree page ------------------------------------------------------------------------
  function renderTreePage(row) {
    const tree = payload(row.tree);
    const panel = h('div', { id: 'node-panel' }, h('p', { class: 'muted', text: 'Click a node to see its artifacts, verdicts, scores and why it was expanded, pruned or chosen.' }));
    const graph = h('div', { id: 'cy' });
    const nodeTable = h('div', { id: 'node-table' });
    const stages = [...new Set(tree.nodes.map((n) => n.stage))].sort((a, b) => (a === 'root' ? -1 : STAGES.indexOf(a) - STAGES.indexOf(b)));
    fill(app, instanceNav(row, 'tree'), h('h1', { text: row.id }),
      h('div', { class: 'cards' },
        card('strategy', tree.strategy || '–'), card('budget spent', fmt.num(tree.spent) + ' / ' + fmt.num(tree.budget, 0) + ' rollouts'),
        card('nodes', String(tree.nodes.length)), card('chosen', tree.chosen || 'none'), row.eval ? card('eval', row.eval) : null),
      h('div', { class: 'section' }, kv([['stopped', tree.stop_reason || '–'], ['selection', tree.selection_reason || '–']])),
      h('div', { class: 'legend' }, 'fill: stage', stages.map((s) => h('span', {}, h('span', { class: 'sw', style: 'background:' + (STAGE_COLORS[s] || STAGE_COLORS['']) }), s)),
        ' · ring: verdict', Object.entries(VERDICT_COLORS).map(([k, c]) => h('span', {}, h('span', { class: 'ring', style: 'border-color:' + c }), k)),
        ' · ', h('span', {}, h('span', { class: 'sw', style: 'background:' + PATH_COLOR }), 'chosen path'), ' · size: visits · dashed: failed expansion'),
      h('div', { class: 'tree-layout' }, graph, panel), h('h2', { text: 'Nodes' }), nodeTable);
    const select = (id) => {
      const node = tree.nodes.find((n) => n.id === id);
      if (!node) return;
      fill(panel, nodePanel(row, node));
      nodeTable.querySelectorAll('tr.selected').forEach((tr) => tr.classList.remove('selected'));
      const tr = nodeTable.querySelector('tr[data-node="' + CSS.escape(id) + '"]');
      if (tr) tr.classList.add('selected');
      if (cy) { cy.$(':selected').unselect(); cy.getElementById(id).select(); }
    };
    nodeTable.append(h('table', { id: 'nodes' }, h('thead', {}, h('tr', {}, ['node', 'stage', 'status', 'verdicts', 'value', 'reward', 'visits', 'rollouts at', 'decision'].map((t) => h('th', { text: t })))),
      h('tbody', {}, tree.nodes.map((n) => h('tr', { class: 'clickable', 'data-node': n.id, onclick: () => select(n.id) },
        h('td', { class: 'mono', text: n.id + (n.chosen ? ' ★' : '') }), h('td', {}, stageChip(n.stage)), h('td', {}, badge(n.status === 'ok' ? '' : n.status, 'failed')),
        h('td', {}, n.verdicts.length ? n.verdicts.map((v) => h('span', { class: 'badge ' + (v.passed === true ? 'passed' : v.passed === false ? 'failed' : 'open'), text: v.check + ': ' + v.status, style: 'margin-right:3px' })) : h('span', { class: 'muted', text: '–' })),
        h('td', { class: 'num', text: fmt.num(n.value) }), h('td', { class: 'num', text: fmt.num(n.reward) }), h('td', { class: 'num', text: n.visits }),
        h('td', { class: 'num', text: n.expansion ? fmt.num(n.budget_at) : '–' }), h('td', { text: n.decision.slice(0, 160) }))))));
    drawTree(graph, tree, select);
  }
  function drawTree(container, tree, select) {
    if (typeof cytoscape === 'undefined') { container.textContent = 'graph library missing'; return; }
    const maxVisits = Math.max(1, ...tree.nodes.map((n) => n.visits));
    const size = (v) => 22 + 38 * Math.sqrt(v / maxVisits);
    const elements = tree.nodes.map((n) => ({
      data: { id: n.id, label: n.id + (n.chosen ? ' ★' : ''), color: STAGE_COLORS[n.stage] || STAGE_COLORS[''], ring: VERDICT_COLORS[n.verdict] || VERDICT_COLORS.none, size: size(n.visits), status: n.status },
      classes: [n.on_path ? 'on-path' : '', n.chosen ? 'chosen' : ''].join(' ').trim(),
    }));
    const onPath = new Set(tree.nodes.filter((n) => n.on_path).map((n) => n.id));
    tree.edges.forEach(([a, b]) => elements.push({ data: { id: a + '->' + b, source: a, target: b }, classes: onPath.has(a) && onPath.has(b) ? 'on-path' : '' }));
    const root = tree.nodes.find((n) => n.parent === null);
    cy = cytoscape({
      container, elements, boxSelectionEnabled: false, maxZoom: 1.6,
      layout: { name: 'breadthfirst', directed: true, roots: root ? [root.id] : undefined, spacingFactor: 1.1, padding: 24, animate: false },
      style: [
        { selector: 'node', style: { 'background-color': 'data(color)', width: 'data(size)', height: 'data(size)', label: 'data(label)', 'border-width': 4, 'border-color': 'data(ring)', 'font-size': 11, 'text-valign': 'bottom', 'text-margin-y': 4, color: '#1d2330' } },
        { selector: 'node[status = "failed"]', style: { 'border-style': 'dashed', 'background-opacity': 0.45 } },
        { selector: 'node.on-path', style: { 'underlay-color': PATH_COLOR, 'underlay-opacity': 0.55, 'underlay-padding': 7, 'underlay-shape': 'ellipse' } },
        { selector: 'node.chosen', style: { 'border-width': 6, 'font-weight': 'bold' } },
        { selector: 'node:selected', style: { 'overlay-color': '#1d2330', 'overlay-opacity': 0.18, 'overlay-padding': 6 } },
        { selector: 'edge', style: { width: 2, 'line-color': '#c3c8d2', 'target-arrow-shape': 'triangle', 'target-arrow-color': '#c3c8d2', 'curve-style': 'bezier' } },
        { selector: 'edge.on-path', style: { width: 5, 'line-color': PATH_COLOR, 'target-arrow-color': PATH_COLOR } },
      ],
    });
    cy.on('tap', 'node', (e) => select(e.target.id()));
    window.inspectorGraph = cy; // for scripted checks of the drawn graph
  }
  function nodePanel(row, n) {
    const a = n.artifacts, e = n.expansion;
    const nodeTraj = e && e.payload ? link('open this stage\'s trajectory', '#/node/' + enc(row.id) + '/' + enc(n.id)) : null;
    return h('div', { 'data-node': n.id },
      h('h2', { style: 'margin-top:0' }, n.id + ' ', stageChip(n.stage), n.chosen ? ' ★ chosen' : '', n.status !== 'ok' ? [' ', badge('failed', 'failed')] : ''),
      kv([['decision', n.decision || '–'], ['value', fmt.num(n.value)], ['reward', fmt.num(n.reward)], ['verified', n.verified ? 'yes' : 'no'], ['visits', String(n.visits)],
        e ? ['expansion', '#' + e.order + ' · ' + (e.exit_status || '–') + ' · ' + e.steps + ' steps · ' + fmt.int(e.tokens) + ' tok · ' + fmt.cost(e.cost) + ' · ' + fmt.sec(e.seconds)] : null,
        e && e.exit_detail ? ['detail', e.exit_detail] : null, e ? ['rollouts at', fmt.num(n.budget_at)] : null]),
      nodeTraj,
      n.picks.length ? [h('div', { class: 'label', text: 'why its children were expanded' }), h('ul', {}, n.picks.map((p) => h('li', { text: p })))] : null,
      h('h3', { text: 'Verdicts' }),
      n.verdicts.length ? h('div', { class: 'verdicts' }, n.verdicts.map((v) => h('div', { class: 'section', 'data-check': v.check },
        h('div', {}, h('b', { text: v.check }), ' ', badge(v.status, v.passed === true ? 'passed' : v.passed === false ? 'failed' : 'open'), v.score !== null && v.score !== undefined ? ' score ' + fmt.num(v.score) : ''),
        v.explanation ? h('div', { text: v.explanation }) : null,
        v.evidence.map((ev) => h('details', {}, h('summary', { text: (ev.label ? ev.label + ': ' : '') + 'exit ' + ev.exit_code + (ev.timed_out ? ' (timed out)' : '') + ' · ' + fmt.num(ev.seconds) + ' s' }), h('pre', { text: ev.command }), folded(ev.output, 'obs')))))) : h('p', { class: 'muted', text: 'none' }),
      h('h3', { text: 'Scores' }),
      Object.keys(n.scores).length ? kv(Object.entries(n.scores).map(([k, s]) => [k, (s.value === null ? 'no answer' : fmt.num(s.value)) + (s.explanation ? ' — ' + s.explanation : '')])) : h('p', { class: 'muted', text: 'none' }),
      h('h3', { text: 'Artifacts' }),
      kv([['summary', a.summary || '–'], a.locations.length ? ['locations', a.locations.join(', ')] : null, a.reproduction_path ? ['reproduction', a.reproduction_path + (a.reproduces_on_base === null ? '' : a.reproduces_on_base ? ' (reproduces on base)' : ' (does not reproduce)')] : null, a.verified_with ? ['checked with', a.verified_with] : null]),
      a.reproduction_script ? [h('div', { class: 'label', text: 'reproduction script' }), folded(a.reproduction_script)] : null,
      a.reproduction_output ? [h('div', { class: 'label', text: 'its output on the base commit' }), folded(a.reproduction_output, 'obs')] : null,
      a.patch ? [h('div', { class: 'label', text: 'patch' }), diffView(a.patch)] : null);
  }

  // ---- select page -----------------------------------------------------------------------------
  function renderSelectList() {
    const rows = instances.filter((r) => r.select);
    fill(app, h('h1', { text: 'Selection · ' + run.name }),
      h('table', { id: 'select-list' }, h('thead', {}, h('tr', {}, ['instance', 'candidates', 'chosen', 'eval', 'why'].map((t) => h('th', { text: t })))),
        h('tbody', {}, rows.map((r) => h('tr', { class: 'clickable', onclick: () => { location.hash = '#/select/' + enc(r.id); } },
          h('td', { class: 'mono', text: r.id }), h('td', { class: 'num', text: r.select_summary.candidates }), h('td', { class: 'mono', text: r.select_summary.chosen || 'none' }),
          h('td', {}, badge(r.eval || '')), h('td', { text: r.select_summary.reason }))))));
  }
  function renderSelectPage(row) {
    const sel = payload(row.select);
    fill(app, instanceNav(row, 'select'), h('h1', { text: row.id }),
      h('div', { class: 'section' }, kv([['chosen', sel.chosen || 'none'], ['why', sel.reason || '–'], ['eval', row.eval ? badge(row.eval) : 'not graded']])),
      h('table', { id: 'candidates' }, h('thead', {}, h('tr', {}, ['rank', 'candidate', 'sources', 'cluster', 'verdicts', 'scores', 'excluded by / reason'].map((t) => h('th', { text: t })))),
        h('tbody', {}, sel.candidates.map((c) => h('tr', { class: c.id === sel.chosen ? 'selected winner' : '', 'data-candidate': c.id },
          h('td', { class: 'num', text: c.rank === null || c.rank === undefined ? '–' : c.rank }), h('td', { class: 'mono', text: c.id + (c.id === sel.chosen ? ' ★' : '') }),
          h('td', {}, c.sources.map((s) => h('div', { class: 'tag', text: s }))), h('td', { class: 'num', text: c.cluster === null || c.cluster === undefined ? '–' : c.cluster }),
          h('td', {}, c.verdicts.map((v) => h('span', { class: 'badge ' + (v.passed === true ? 'passed' : v.passed === false ? 'failed' : 'open'), title: v.explanation, text: v.check + ': ' + v.status, style: 'margin-right:3px' }))),
          h('td', {}, Object.entries(c.scores).map(([k, s]) => h('div', { title: s.explanation || '', text: k + ' ' + (s.value === null ? '–' : fmt.num(s.value)) }))),
          h('td', {}, c.excluded_by.length ? c.excluded_by.join(', ') : '', c.reason ? h('div', { text: c.reason }) : null))))),
      sel.candidates.map((c) => h('details', { class: 'section' }, h('summary', { text: 'patch of ' + c.id + (c.id === sel.chosen ? ' (chosen)' : '') }), diffView(c.patch))));
  }

  // ---- synth page ------------------------------------------------------------------------------
  function renderSynthPage() {
    const synth = summary.synth;
    const stats = synth.stats['.'] || Object.values(synth.stats)[0] || {};
    const overall = stats.overall || {};
    const filters = Object.entries(stats.filters || {});
    const samples = synth.samples;
    const kept = samples.filter((s) => s.kept).length;
    const box = h('div', {});
    const show = h('select', { 'aria-label': 'kept or rejected' }, ['', 'kept', 'rejected'].map((v) => h('option', { value: v, text: v || 'kept and rejected', selected: v === state.synthFilter })));
    const draw = () => {
      const rows = samples.filter((s) => !state.synthFilter || (state.synthFilter === 'kept') === s.kept);
      fill(box, h('table', { id: 'samples' }, h('thead', {}, h('tr', {}, ['sample', 'task', 'grade', 'kept', 'rejection reasons', 'exported'].map((t) => h('th', { text: t })))),
        h('tbody', {}, rows.map((s) => h('tr', { 'data-sample': s.id },
          h('td', { class: 'mono' }, byId.has(s.id) && byId.get(s.id).traj ? link(s.id, '#/i/' + enc(s.id)) : s.id), h('td', { class: 'mono', text: s.task }),
          h('td', { title: s.grade_detail }, badge(s.grade || 'not graded', s.grade === 'resolved' ? 'resolved' : s.grade ? 'unresolved' : '')),
          h('td', {}, badge(s.kept ? 'kept' : 'rejected')), h('td', {}, s.reasons.map((r) => h('div', { text: r }))), h('td', { text: s.exported.join(', ') }))))));
    };
    show.addEventListener('change', () => { state.synthFilter = show.value; draw(); });
    fill(app, h('h1', { text: 'Synthesis · ' + run.name }),
      h('div', { class: 'cards' }, card('samples', fmt.int(stats.samples ?? samples.length)), card('tasks', fmt.int(stats.tasks ?? new Set(samples.map((s) => s.task)).size)),
        card('resolved', fmt.int(overall.resolved), overall.resolve_rate !== undefined ? fmt.num(100 * overall.resolve_rate, 1) + '%' : ''),
        card('kept', fmt.int(overall.accepted ?? kept), overall.acceptance_rate !== undefined ? fmt.num(100 * overall.acceptance_rate, 1) + '%' : ''),
        card('sft.jsonl records', fmt.int(synth.counts['sft.jsonl'])), card('rm_pairs.jsonl pairs', fmt.int(synth.counts['rm_pairs.jsonl']))),
      Object.keys(synth.stats).length > 1 || !synth.stats['.'] ? h('div', { class: 'muted', text: 'stats from: ' + Object.keys(synth.stats).join(', ') }) : null,
      filters.length ? [h('h2', { text: 'Filters' }), h('table', { id: 'filters' }, h('thead', {}, h('tr', {}, ['filter', 'checked', 'passed', 'rate', 'rejected for'].map((t) => h('th', { text: t })))),
        h('tbody', {}, filters.map(([name, f]) => h('tr', {}, h('td', { text: name }), h('td', { class: 'num', text: f.checked }), h('td', { class: 'num', text: f.passed }),
          h('td', { class: 'num', text: f.rate !== undefined ? fmt.num(100 * f.rate, 1) + '%' : '–' }), h('td', {}, Object.entries(f.rejected || {}).map(([r, n]) => h('div', { text: n + ' × ' + r })))))))] : null,
      h('h2', { text: 'Samples' }), samples.length ? [h('div', { class: 'filters' }, show), box] : h('p', { class: 'muted', text: 'no results.jsonl in this folder: only the counts above are known' }));
    draw();
  }

  // ---- routing ---------------------------------------------------------------------------------
  function nav() {
    const here = location.hash.split('/')[1] || '';
    const items = [['', 'Run']];
    if (instances.some((r) => r.select)) items.push(['select', 'Selection']);
    if (summary.synth) items.push(['synth', 'Synthesis']);
    document.getElementById('nav').replaceChildren(...items.map(([k, t]) => h('a', { href: '#/' + k, class: (k === here || (k === '' && ['i', 'tree', 'node'].includes(here))) ? 'here' : '', text: t })));
  }
  function route() {
    destroyViews();
    nav();
    const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
    if (parts[0] && document.readyState === 'loading') {
      // records come after this script in the page: wait until they are all parsed
      fill(app, h('p', { class: 'muted', text: 'loading…' }));
      document.addEventListener('DOMContentLoaded', route, { once: true });
      return;
    }
    const row = parts[1] !== undefined ? byId.get(parts[1]) : null;
    try {
      if (parts[0] === 'i' && row) renderTrajectoryPage(row, payload(row.traj));
      else if (parts[0] === 'tree' && row && row.tree) renderTreePage(row);
      else if (parts[0] === 'node' && row && row.tree) {
        const node = payload(row.tree).nodes.find((n) => n.id === parts[2]);
        renderTrajectoryPage(row, node && node.expansion && payload(node.expansion.payload), row.id + ' · node ' + parts[2] + (node ? ' (' + node.stage + ' stage)' : ''), 'node');
      } else if (parts[0] === 'select' && row && row.select) renderSelectPage(row);
      else if (parts[0] === 'select') renderSelectList();
      else if (parts[0] === 'synth' && summary.synth) renderSynthPage();
      else if (!instances.length && summary.synth) renderSynthPage();
      else renderRunPage();
    } catch (err) {
      fill(app, h('div', { class: 'error-banner', text: 'This view could not be drawn: ' + err }));
      throw err;
    }
    window.scrollTo(0, 0);
    document.body.dataset.view = parts[0] || 'run';
    document.body.dataset.route = location.hash; // which view is drawn (for scripted checks)
  }

  // ---- live mode (`swe-ttc inspect --serve`) -----------------------------------------------------
  function watch() {
    const badgeEl = document.getElementById('live');
    badgeEl.hidden = false;
    setInterval(() => {
      fetch('version', { cache: 'no-store' }).then((r) => (r.ok ? r.text() : null)).then((v) => {
        if (!v || v.trim() === run.version) return;
        // come back to the same view, scrolled and filtered as it was
        sessionStorage.setItem(KEEP, JSON.stringify({ hash: location.hash, y: window.scrollY, state }));
        location.reload();
      }).catch(() => { badgeEl.textContent = 'server stopped'; });
    }, run.poll_ms || 2000);
  }

  window.addEventListener('hashchange', route);
  document.getElementById('run-name').textContent = run.path;
  const kept = run.live ? JSON.parse(sessionStorage.getItem(KEEP) || 'null') : null;
  sessionStorage.removeItem(KEEP);
  if (kept && kept.hash === location.hash) Object.assign(state, kept.state);
  route();
  if (kept && kept.hash === location.hash) {
    const restore = () => window.scrollTo(0, kept.y);
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', () => setTimeout(restore), { once: true });
    else restore();
  }
  if (run.live) watch();
  performance.mark('inspector-ready');
})();
