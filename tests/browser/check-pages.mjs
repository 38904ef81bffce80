#!/usr/bin/env node
// Contrôle d'accessibilité des pages de Marelle dans un vrai Chromium (headless).
//
// Usage :
//   node tests/browser/check-pages.mjs spec.json      (fichier)
//   node tests/browser/check-pages.mjs '{"pages":…}'  (JSON en argument)
//   node tests/browser/check-pages.mjs < spec.json     (entrée standard, ou « - »)
//   option : --report chemin.json  (écrit le rapport JSON dans un fichier au lieu de stdout)
//
// Spec (tout est facultatif sauf pages[].url) :
//   {
//     "viewports": [{"width": 375, "height": 812}, {"width": 1280, "height": 800}],
//     "tags": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"],
//     "lang": "fr",
//     "screenshotDir": "/tmp/…",          // où écrire les captures demandées par pages[].screenshot
//     "timeoutMs": 15000,                  // par action / navigation
//     "pages": [{
//       "name": "accueil du portail",       // libellé dans le rapport (défaut : l'URL)
//       "url": "http://ville.localhost:8080/",
//       "steps": [                          // exécutées après le chargement de url, avant les contrôles
//         {"fill": "#password", "value": "secret"},
//         {"click": "button[type=submit]", "waitForUrl": "http://…/admin/"},  // ou "navigation": true
//         {"goto": "http://…"}, {"press": "Enter"}, {"check": "#id"},
//         {"select": "#env", "value": "recette"}, {"waitFor": "#selecteur"}
//       ],
//       "status": 404,                      // statut HTTP attendu du document final (défaut 200)
//       "expect": [                         // assertions propres à la page, à chaque largeur
//         {"selector": ".recette-band", "visible": true, "inViewport": true, "text": "RECETTE"},
//         {"selector": ".site-header", "style": {"background-color": "rgb(43, 76, 126)"}},
//         {"selector": ".recette-band", "count": 0}       // nombre exact d'éléments (0 : absent)
//       ],
//       "screenshot": "portail",            // <screenshotDir>/portail-<largeur>.png (page entière)
//       "skipChecks": ["h1"],               // contrôles désactivés pour cette page (à justifier !)
//       "newContext": false                 // true : cookies neufs ; sinon les pages partagent
//     }]                                    // un contexte dans l'ordre (connexion puis pages protégées)
//   }
//
// Contrôles (identifiants utilisables dans skipChecks) :
//   axe         règles axe-core des tags demandés (chaque violation : règle, impact, sélecteur)
//   lang        <html lang="fr">
//   title       <title> non vide
//   h1          exactement un titre de niveau 1
//   skip-link   le premier élément atteint par Tab est un lien d'évitement dont la cible existe,
//               visible quand il a le focus, et qui déplace le focus sur la cible (Entrée)
//   labels      chaque champ de formulaire a une étiquette
//   reflow      pas de défilement horizontal (à chaque largeur)
//   console     aucune erreur JavaScript ni erreur dans la console
//   requests    aucune requête de ressource en échec (CSS, JS, logo…)
//   status      statut HTTP du document
//   expect      assertions de la spec
// (Une page qui ne se charge pas ou une étape qui échoue est un problème « navigation »,
// qui ne se désactive pas.)
//
// Sortie : le rapport JSON sur stdout (ou --report), un résumé lisible sur stderr.
// Code de sortie : 0 tout va bien, 1 problèmes trouvés, 2 erreur d'utilisation ou d'infrastructure.

import { readFileSync, mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

const DEFAULT_VIEWPORTS = [
  { width: 375, height: 812 },
  { width: 1280, height: 800 },
];
const DEFAULT_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
const CHECKS = ['axe', 'lang', 'title', 'h1', 'skip-link', 'labels', 'reflow', 'console', 'requests', 'status', 'expect'];

function fail(message) {
  process.stderr.write(`check-pages : ${message}\n`);
  process.exit(2);
}

// ---------------------------------------------------------------- spec

function parseArgs(argv) {
  const args = { source: null, report: null };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--report') args.report = argv[++i];
    else if (argv[i] === '--help' || argv[i] === '-h') {
      process.stdout.write(readFileSync(new URL(import.meta.url), 'utf8').split('\n')
        .filter((l) => l.startsWith('//')).map((l) => l.slice(3)).join('\n') + '\n');
      process.exit(0);
    } else if (args.source === null) args.source = argv[i];
    else fail(`argument inattendu : ${argv[i]}`);
  }
  return args;
}

function readSpec(source) {
  let text;
  if (source === null || source === '-') text = readFileSync(0, 'utf8');
  else if (source.trimStart().startsWith('{')) text = source;
  else text = readFileSync(source, 'utf8');
  let spec;
  try {
    spec = JSON.parse(text);
  } catch (e) {
    fail(`spec JSON illisible : ${e.message}`);
  }
  if (!Array.isArray(spec.pages) || spec.pages.length === 0) fail('la spec doit contenir "pages": [{ "url": … }]');
  for (const [i, p] of spec.pages.entries()) {
    if (typeof p.url !== 'string') fail(`pages[${i}].url manquant`);
    for (const c of p.skipChecks ?? []) if (!CHECKS.includes(c)) fail(`pages[${i}].skipChecks : contrôle inconnu « ${c} » (connus : ${CHECKS.join(', ')})`);
    if (p.screenshot && !spec.screenshotDir) fail(`pages[${i}].screenshot demande "screenshotDir" dans la spec`);
  }
  return {
    viewports: spec.viewports ?? DEFAULT_VIEWPORTS,
    tags: spec.tags ?? DEFAULT_TAGS,
    lang: spec.lang ?? 'fr',
    screenshotDir: spec.screenshotDir ?? null,
    timeoutMs: spec.timeoutMs ?? 15000,
    globalTimeoutMs: spec.globalTimeoutMs ?? 180000,
    pages: spec.pages,
  };
}

// ---------------------------------------------------------------- checks run inside the page

// Returns the basic RGAA checks of the document, evaluated in the page.
function pageBasics({ lang }) {
  const selectorOf = (el) => {
    if (!(el instanceof Element)) return String(el);
    const parts = [];
    for (let e = el; e && e.nodeType === 1 && e !== document.documentElement; e = e.parentElement) {
      if (e.id) { parts.unshift(`#${CSS.escape(e.id)}`); break; }
      let part = e.localName;
      const classes = [...e.classList].slice(0, 2).map((c) => `.${CSS.escape(c)}`).join('');
      part += classes;
      const parent = e.parentElement;
      if (parent) {
        const same = [...parent.children].filter((c) => c.localName === e.localName);
        if (same.length > 1) part += `:nth-of-type(${same.indexOf(e) + 1})`;
      }
      parts.unshift(part);
      if (e.localName === 'body') break;
    }
    return parts.join(' > ');
  };
  const problems = [];
  const add = (check, target, message) => problems.push({ check, target, message });

  // lang
  const htmlLang = document.documentElement.getAttribute('lang');
  if (htmlLang === null) add('lang', 'html', `<html> n'a pas d'attribut lang (attendu lang="${lang}")`);
  else if (!(htmlLang === lang || htmlLang.startsWith(`${lang}-`))) add('lang', 'html', `<html lang="${htmlLang}"> : attendu lang="${lang}"`);

  // title
  const title = document.title.trim();
  if (!title) add('title', 'title', 'le titre de la page (<title>) est absent ou vide');
  else if (/^[—–\-|:·]/.test(title)) add('title', 'title', `le titre de la page commence par un séparateur (partie propre à la page vide ?) : « ${title} »`);

  // h1
  const h1s = [...document.querySelectorAll('h1, [role="heading"][aria-level="1"]')];
  if (h1s.length !== 1) {
    add('h1', h1s.length ? h1s.map(selectorOf).join(', ') : 'body',
      `${h1s.length} titre(s) de niveau 1 au lieu d'un seul${h1s.length ? ' : ' + h1s.map((h) => `« ${h.textContent.trim()} »`).join(', ') : ''}`);
  }

  // labels
  const textOf = (el) => (el?.textContent ?? '').replace(/\s+/g, ' ').trim();
  const ignoredTypes = new Set(['hidden', 'submit', 'button', 'reset', 'image']);
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (el.localName === 'input' && ignoredTypes.has((el.getAttribute('type') || 'text').toLowerCase())) continue;
    const byIds = (el.getAttribute('aria-labelledby') || '').split(/\s+/).filter(Boolean)
      .map((id) => textOf(document.getElementById(id))).join(' ').trim();
    const aria = (el.getAttribute('aria-label') || '').trim();
    const labels = [...(el.labels ?? [])].map(textOf).join(' ').trim();
    const titleAttr = (el.getAttribute('title') || '').trim();
    if (!byIds && !aria && !labels && !titleAttr) {
      add('labels', selectorOf(el), `champ <${el.localName}${el.type ? ` type="${el.type}"` : ''}${el.name ? ` name="${el.name}"` : ''}> sans étiquette (label for, label englobant, aria-labelledby ou aria-label)`);
    }
  }
  return problems;
}

// Horizontal scrolling of the page at the current width, with the elements sticking out.
function pageReflow() {
  const root = document.documentElement;
  const width = root.clientWidth;
  const overflow = root.scrollWidth - width;
  if (overflow <= 0) return null;
  // Whether an ancestor with overflow other than visible clips `el`: only ancestors on its
  // containing-block chain do (an absolutely positioned element escapes a scrolling box
  // that is not positioned — the usual cause of a page wider than a scrolled table).
  const clipped = (el) => {
    let position = getComputedStyle(el).position;
    if (position === 'fixed') return false;
    let needPositioned = position === 'absolute';
    for (let e = el.parentElement; e && e !== document.body && e !== root; e = e.parentElement) {
      const s = getComputedStyle(e);
      const establishes = s.position !== 'static' || s.transform !== 'none' || s.contain.includes('paint') || s.contain.includes('layout');
      if (!needPositioned || establishes) {
        if (s.overflowX !== 'visible') return true;
        if (s.position === 'fixed') return false;
        needPositioned = s.position === 'absolute';
      }
    }
    return false;
  };
  const offenders = new Set();
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > width + 0.5 && !clipped(el)) offenders.add(el);
  }
  // Report the outermost offenders only.
  const outermost = [...offenders].filter((el) => !offenders.has(el.parentElement));
  const short = (el) => `${el.localName}${el.id ? `#${el.id}` : ''}${[...el.classList].slice(0, 2).map((c) => `.${c}`).join('')}`;
  // Grouped by kind ("span.visually-hidden dans button.secondary ×50"), widest first.
  const groups = new Map();
  for (const el of outermost) {
    const parent = el.parentElement;
    const key = short(el) + (parent && parent !== document.body ? ` dans ${short(parent)}` : '');
    const right = el.getBoundingClientRect().right;
    const g = groups.get(key) ?? { key, count: 0, right: 0 };
    g.count += 1;
    g.right = Math.max(g.right, right);
    groups.set(key, g);
  }
  const sorted = [...groups.values()].sort((a, b) => b.right - a.right);
  const elements = sorted.slice(0, 5).map((g) => `${g.key}${g.count > 1 ? ` ×${g.count}` : ''} (bord droit jusqu'à ${Math.round(g.right)} px)`);
  return { overflow, width, elements, more: Math.max(0, sorted.length - 5) };
}

// The first element reached by Tab from the top of the page.
function skipLinkCandidate() {
  const el = document.activeElement;
  if (!el || el === document.body) return { found: false };
  const r = el.getBoundingClientRect();
  const href = el.getAttribute('href') || '';
  const id = href.startsWith('#') ? decodeURIComponent(href.slice(1)) : null;
  const target = id ? (document.getElementById(id) ?? document.getElementsByName(id)[0] ?? null) : null;
  return {
    found: true,
    tag: el.localName,
    text: (el.textContent || '').trim(),
    href,
    targetExists: !!target,
    onScreen: r.width > 1 && r.height > 1 && r.right > 0 && r.bottom > 0 && r.left < innerWidth && r.top < innerHeight,
    html: el.outerHTML.slice(0, 160),
  };
}

// Where keyboard focus is, relative to the skip link's target.
function focusRelativeTo(href) {
  const id = decodeURIComponent(href.slice(1));
  const target = document.getElementById(id) ?? document.getElementsByName(id)[0];
  const active = document.activeElement;
  const inside = !!target && !!active && (active === target || target.contains(active));
  const after = !!target && !!active && active !== document.body
    && !!(target.compareDocumentPosition(active) & Node.DOCUMENT_POSITION_FOLLOWING);
  return { hash: location.hash, inside, after, active: active ? active.outerHTML.slice(0, 120) : null };
}

// ---------------------------------------------------------------- runner

const problemKey = (p) => [p.check, p.rule, p.target, p.message].join('\u0000');

class PageRun {
  constructor(spec, pageSpec, index) {
    this.spec = spec;
    this.ps = pageSpec;
    this.name = pageSpec.name ?? pageSpec.url;
    this.skip = new Set(pageSpec.skipChecks ?? []);
    this.problems = new Map();
    this.incomplete = new Map();
    this.screenshots = [];
    this.index = index;
    this.status = null;
    this.inSteps = false;
    this.failedUrls = new Set();
  }

  add(p, viewport) {
    if (this.skip.has(p.check)) return;
    const key = problemKey(p);
    const existing = this.problems.get(key);
    if (existing) {
      if (viewport && !existing.viewports.includes(viewport)) existing.viewports.push(viewport);
    } else {
      this.problems.set(key, { page: this.name, url: this.ps.url, impact: null, rule: p.check, ...p, viewports: viewport ? [viewport] : [] });
    }
  }

  // Attaches the page's listeners to this run; returns what detaches them.
  listen(page) {
    const origin = new URL(this.ps.url).origin;
    const handlers = [];
    const on = (event, handler) => { page.on(event, handler); handlers.push([event, handler]); };
    on('console', (msg) => {
      if (msg.type() !== 'error') return;
      const text = msg.text();
      // Failed loads are reported with their status by the network listeners below.
      if (text.startsWith('Failed to load resource')) return;
      const loc = msg.location();
      this.add({ check: 'console', impact: 'serious', target: loc?.url ? `${loc.url}:${loc.lineNumber}` : 'console', message: `erreur dans la console : ${text}` });
    });
    on('pageerror', (err) => {
      this.add({ check: 'console', impact: 'serious', target: 'javascript', message: `erreur JavaScript : ${err.message}` });
    });
    on('response', (response) => {
      const request = response.request();
      const status = response.status();
      if (request.isNavigationRequest() && request.frame() === page.mainFrame()) {
        if (status < 300 || status >= 400) this.status = status;
        return;
      }
      if (status >= 400) {
        const url = response.url();
        this.failedUrls.add(url);
        const where = new URL(url).origin === origin ? 'ressource du site' : 'ressource externe';
        this.add({ check: 'requests', impact: 'serious', target: url, message: `${where} en échec : ${request.method()} ${url} → HTTP ${status} (${request.resourceType()})` });
      }
    });
    on('requestfailed', (request) => {
      const error = request.failure()?.errorText ?? 'échec';
      if (request.isNavigationRequest() && request.frame() === page.mainFrame()) return; // reported by goto
      const url = request.url();
      if (error === 'net::ERR_ABORTED' && (this.inSteps || this.failedUrls.has(url))) return; // reported above, or left behind by a navigation
      const where = new URL(url).origin === origin ? 'ressource du site' : 'ressource externe';
      this.add({ check: 'requests', impact: 'serious', target: url, message: `${where} en échec : ${request.method()} ${url} → ${error} (${request.resourceType()})` });
    });
    return () => { for (const [event, handler] of handlers) page.off(event, handler); };
  }

  async steps(page) {
    const t = this.spec.timeoutMs;
    this.inSteps = true;
    try {
      for (const [i, step] of (this.ps.steps ?? []).entries()) {
        const label = `étape ${i + 1} ${JSON.stringify(step)}`;
        try {
          if (step.goto) await page.goto(step.goto, { waitUntil: 'load', timeout: t });
          else if (step.fill) await page.fill(step.fill, String(step.value ?? ''), { timeout: t });
          else if (step.check) await page.check(step.check, { timeout: t });
          else if (step.select) await page.selectOption(step.select, String(step.value ?? ''), { timeout: t });
          else if (step.waitFor) await page.waitForSelector(step.waitFor, { state: 'visible', timeout: t });
          else if (step.click || step.press) {
            const act = step.click ? () => page.click(step.click, { timeout: t }) : () => page.keyboard.press(step.press);
            if (step.waitForUrl) {
              await Promise.all([page.waitForURL(step.waitForUrl, { waitUntil: 'load', timeout: t }), act()]);
            } else if (step.navigation) {
              await Promise.all([page.waitForEvent('load', { timeout: t }), act()]);
            } else await act();
          } else throw new Error('étape inconnue (goto, fill, check, select, waitFor, click, press)');
        } catch (e) {
          throw new Error(`${label} : ${e.message.split('\n')[0]}`);
        }
      }
      await page.waitForLoadState('load', { timeout: t });
    } finally {
      this.inSteps = false;
    }
  }

  async run(page) {
    const started = Date.now();
    let last = started;
    this.phasesMs = {};
    this.lap = (name) => { const now = Date.now(); this.phasesMs[name] = now - last; last = now; };
    page.setDefaultTimeout(this.spec.timeoutMs);
    const detach = this.listen(page);
    try {
      const first = this.spec.viewports[0];
      await page.setViewportSize(first);
      let response;
      try {
        response = await page.goto(this.ps.url, { waitUntil: 'load', timeout: this.spec.timeoutMs });
      } catch (e) {
        this.add({ check: 'navigation', impact: 'critical', target: this.ps.url, message: `la page ne se charge pas : ${e.message.split('\n')[0]}` });
        return;
      }
      if (response && this.status === null) this.status = response.status();
      this.lap('load');
      try {
        await this.steps(page);
      } catch (e) {
        this.add({ check: 'navigation', impact: 'critical', target: this.ps.url, message: e.message });
        return;
      }
      this.finalUrl = page.url();
      if (this.ps.steps?.length) this.lap('steps');
      const expected = this.ps.status ?? 200;
      if (this.status !== expected) {
        this.add({ check: 'status', impact: 'critical', target: this.finalUrl, message: `statut HTTP ${this.status} au lieu de ${expected} pour ${this.finalUrl}` });
      }

      await this.basics(page);
      this.lap('basics');
      for (const viewport of this.spec.viewports) {
        await this.atWidth(page, viewport);
        this.lap(`${viewport.width}px`);
      }
      if (!this.skip.has('skip-link')) await this.keyboard(page);
      this.lap('keyboard');
    } finally {
      this.durationMs = Date.now() - started;
      detach();
    }
  }

  async basics(page) {
    for (const p of await page.evaluate(pageBasics, { lang: this.spec.lang })) {
      this.add({ ...p, impact: p.check === 'labels' ? 'critical' : 'serious' });
    }
  }

  async atWidth(page, viewport) {
    const w = viewport.width;
    await page.setViewportSize(viewport);
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => { scrollTo(0, 0); requestAnimationFrame(r); })));

    if (!this.skip.has('reflow')) {
      const reflow = await page.evaluate(pageReflow);
      if (reflow) {
        this.add({
          check: 'reflow', impact: 'serious', target: (reflow.elements.join(' ; ') || 'html') + (reflow.more ? ` ; et ${reflow.more} autre(s) sorte(s) d'élément` : ''),
          message: `défilement horizontal à ${w} px : la page fait ${reflow.width + reflow.overflow} px de large`,
        }, w);
      }
    }

    if (!this.skip.has('expect')) {
      for (const exp of this.ps.expect ?? []) await this.expectation(page, exp, viewport);
    }

    if (!this.skip.has('axe')) {
      await injectAxe(page);
      const result = await page.evaluate(async (tags) => {
        const r = await window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations', 'incomplete'] });
        const nodes = (list) => list.flatMap((v) => v.nodes.map((n) => ({
          rule: v.id, impact: n.impact ?? v.impact, help: v.help, helpUrl: v.helpUrl,
          target: n.target.map((t) => (Array.isArray(t) ? t.join(' >>> ') : t)).join(' '),
          html: n.html.slice(0, 200), summary: n.failureSummary ?? '',
        })));
        return { violations: nodes(r.violations), incomplete: nodes(r.incomplete) };
      }, this.spec.tags);
      for (const v of result.violations) {
        this.add({ check: 'axe', rule: v.rule, impact: v.impact, target: v.target, message: v.help, html: v.html, detail: v.summary, helpUrl: v.helpUrl }, w);
      }
      for (const v of result.incomplete) {
        const key = `${v.rule}\u0000${v.target}`;
        if (!this.incomplete.has(key)) this.incomplete.set(key, { ...v, viewports: [] });
        this.incomplete.get(key).viewports.push(w);
      }
    }

    if (this.ps.screenshot) {
      const file = path.join(this.spec.screenshotDir, `${this.ps.screenshot}-${w}.png`);
      await page.screenshot({ path: file, fullPage: true });
      this.screenshots.push({ width: w, path: file });
    }
  }

  async expectation(page, exp, viewport) {
    const w = viewport.width;
    const target = exp.selector;
    const el = page.locator(target).first();
    const count = await page.locator(target).count();
    if (exp.count !== undefined) {
      if (count !== exp.count) {
        this.add({ check: 'expect', impact: 'critical', target, message: `${count} élément(s) ${target} au lieu de ${exp.count}` }, w);
      }
      if (count === 0) return;
    } else if (count === 0) {
      this.add({ check: 'expect', impact: 'critical', target, message: `élément attendu absent : ${target}` }, w);
      return;
    }
    if (exp.visible && !(await el.isVisible())) {
      this.add({ check: 'expect', impact: 'critical', target, message: `élément attendu invisible : ${target}` }, w);
    }
    if (exp.inViewport) {
      const box = await el.boundingBox();
      if (!box || box.y >= viewport.height || box.y + box.height <= 0 || box.x >= viewport.width || box.x + box.width <= 0) {
        this.add({ check: 'expect', impact: 'critical', target, message: `élément hors de l'écran à l'arrivée sur la page : ${target}` }, w);
      }
    }
    if (exp.text !== undefined) {
      const text = (await el.innerText()).replace(/\s+/g, ' ');
      if (!text.includes(exp.text)) {
        this.add({ check: 'expect', impact: 'critical', target, message: `texte « ${exp.text} » absent de ${target} (trouvé : « ${text.slice(0, 120)} »)` }, w);
      }
    }
    for (const [property, wanted] of Object.entries(exp.style ?? {})) {
      const actual = await el.evaluate((node, prop) => getComputedStyle(node).getPropertyValue(prop), property);
      if (actual !== wanted) {
        this.add({ check: 'expect', impact: 'critical', target, message: `${target} { ${property} } vaut « ${actual} » au lieu de « ${wanted} »` }, w);
      }
    }
  }

  async keyboard(page) {
    // Tab from the top of the document: the first stop must be the skip link. The
    // starting point is a focusable probe (out of the tab order) put first in <body>, so
    // that an autofocused field or an earlier step does not shift it.
    await page.evaluate(() => {
      const probe = document.createElement('span');
      probe.id = '__check_pages_probe';
      probe.tabIndex = -1;
      document.body.prepend(probe);
      probe.focus({ preventScroll: true });
      scrollTo(0, 0);
    });
    await page.keyboard.press('Tab');
    const first = await page.evaluate(skipLinkCandidate);
    await page.evaluate(() => document.getElementById('__check_pages_probe')?.remove());
    const add = (message, target = 'body') => this.add({ check: 'skip-link', impact: 'serious', target, message });
    if (!first.found) return add("la touche Tab n'atteint aucun élément depuis le haut de la page");
    if (first.tag !== 'a' || !first.href.startsWith('#')) {
      return add(`le premier élément atteint par Tab n'est pas un lien d'évitement mais : ${first.html}`, first.tag);
    }
    const target = `a[href="${first.href}"]`;
    if (!first.text) add("le lien d'évitement n'a pas d'intitulé", target);
    if (!first.targetExists) return add(`la cible ${first.href} du lien d'évitement n'existe pas`, target);
    if (!first.onScreen) add("le lien d'évitement reste hors de l'écran quand il a le focus (il doit devenir visible)", target);
    await page.keyboard.press('Enter');
    await page.waitForFunction((hash) => location.hash === hash, first.href, { timeout: 2000 }).catch(() => {});
    // Either the target takes focus (tabindex="-1"), or the next Tab lands in or after it.
    const landed = await page.evaluate(focusRelativeTo, first.href);
    if (!landed.inside) {
      await page.keyboard.press('Tab');
      const next = await page.evaluate(focusRelativeTo, first.href);
      if (!next.inside && !next.after) {
        add(`Entrée sur le lien d'évitement ne mène pas à ${first.href} : le Tab suivant atteint ${next.active ?? 'rien'}`, target);
      }
    }
  }

  report() {
    return {
      name: this.name,
      url: this.ps.url,
      finalUrl: this.finalUrl ?? null,
      status: this.status,
      durationMs: this.durationMs,
      phasesMs: this.phasesMs,
      screenshots: this.screenshots,
      problems: [...this.problems.values()],
      needsReview: [...this.incomplete.values()],
    };
  }
}

// axe-core is loaded in every document by the context's init script (see main): the
// usual page.addScriptTag inserts an inline <script>, which our Content-Security-Policy
// (script-src 'self') rightly refuses, and bypassing the CSP would hide the pages' own
// CSP errors. Init scripts and evaluate go through the DevTools protocol, outside the
// CSP. This is the fallback for a document the init script missed.
let axeSource = null;
async function injectAxe(page) {
  if (await page.evaluate(() => typeof window.axe !== 'undefined')) return;
  axeSource ??= readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(axeSource);
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) throw new Error("axe-core n'a pas pu être injecté");
}

// ---------------------------------------------------------------- summary

const IMPACT_ORDER = { critical: 0, serious: 1, moderate: 2, minor: 3 };

function summary(report) {
  const problems = report.pages.flatMap((p) => p.problems);
  if (problems.length === 0) {
    return `Accessibilité : ${report.pages.length} page(s) contrôlée(s), aucun problème (${report.durationMs} ms).\n`;
  }
  const lines = [`Accessibilité : ${problems.length} problème(s) sur ${report.pages.filter((p) => p.problems.length).length} page(s) / ${report.pages.length} contrôlée(s)`];
  for (const page of report.pages) {
    if (!page.problems.length) continue;
    lines.push('', `■ ${page.name} — ${page.finalUrl ?? page.url} (HTTP ${page.status ?? '?'})`);
    const sorted = [...page.problems].sort((a, b) => (IMPACT_ORDER[a.impact] ?? 9) - (IMPACT_ORDER[b.impact] ?? 9));
    for (const p of sorted) {
      const widths = p.viewports.length ? ` [${p.viewports.map((w) => `${w} px`).join(', ')}]` : '';
      lines.push(`  - ${p.rule} (${p.impact ?? '?'})${widths} ${p.target}`);
      lines.push(`      ${p.message}`);
      if (p.detail) lines.push(...p.detail.split('\n').map((l) => `      ${l}`));
      if (p.html) lines.push(`      HTML : ${p.html}`);
      if (p.helpUrl) lines.push(`      ${p.helpUrl}`);
    }
  }
  return lines.join('\n') + '\n';
}

// ---------------------------------------------------------------- main

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const spec = readSpec(args.source);
  const watchdog = setTimeout(() => {
    process.stderr.write(`check-pages : délai global de ${spec.globalTimeoutMs} ms dépassé\n`);
    process.exit(2);
  }, spec.globalTimeoutMs);
  watchdog.unref();
  if (spec.screenshotDir) mkdirSync(spec.screenshotDir, { recursive: true });

  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
    require.resolve('axe-core/axe.min.js');
  } catch (e) {
    fail(`dépendances absentes (${e.message.split('\n')[0]}) : lancez « npm ci --prefix tests/browser »`);
  }
  const executablePath = process.env.MARELLE_CHROMIUM ?? '/usr/bin/chromium';
  const started = Date.now();
  let browser;
  try {
    browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS, timeout: 30000 });
  } catch (e) {
    fail(`impossible de lancer Chromium (${executablePath}) : ${e.message.split('\n')[0]} — « apt-get install chromium » ?`);
  }
  const report = { ok: false, chromium: browser.version(), axe: require('axe-core/package.json').version, tags: spec.tags, viewports: spec.viewports.map((v) => v.width), durationMs: 0, pages: [] };
  try {
    const newContext = async () => {
      const context = await browser.newContext({ locale: 'fr-FR', timezoneId: 'Europe/Paris', colorScheme: 'light', viewport: spec.viewports[0] });
      await context.addInitScript({ path: require.resolve('axe-core/axe.min.js') });
      return context;
    };
    // One tab for all the pages (a new tab costs ~0.6 s here), one per context.
    let context = await newContext();
    let page = await context.newPage();
    for (const [i, ps] of spec.pages.entries()) {
      if (ps.newContext && i > 0) {
        await context.close();
        context = await newContext();
        page = await context.newPage();
      }
      const run = new PageRun(spec, ps, i);
      await run.run(page);
      report.pages.push(run.report());
    }
    await context.close();
  } finally {
    await browser.close().catch(() => {});
  }
  report.durationMs = Date.now() - started;
  report.ok = report.pages.every((p) => p.problems.length === 0);
  const json = JSON.stringify(report, null, 2) + '\n';
  if (args.report) await writeFile(args.report, json);
  else process.stdout.write(json);
  process.stderr.write(summary(report));
  process.exitCode = report.ok ? 0 : 1;
}

main().catch((e) => {
  process.stderr.write(`check-pages : ${e.stack ?? e}\n`);
  process.exit(2);
});
