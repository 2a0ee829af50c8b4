import { readFileSync } from 'node:fs';

/**
 * The supervisor page: one self-contained HTML document (no CDN, fonts or scripts from elsewhere).
 * Its script and style live beside this file as plain JavaScript and CSS (`client/`), read once and
 * served inline; the script runs under the Content-Security-Policy by nonce. Events arrive as
 * Server-Sent Events (`/api/events`); the browser's EventSource reconnects by itself and resumes
 * from the last event it saw. Status is shown by text and shape as well as colour.
 */
const CLIENT = new URL('./client/', import.meta.url);
let assets: { script: string; style: string } | undefined;

function clientAssets(): { script: string; style: string } {
  assets ??= {
    script: readFileSync(new URL('page.js', CLIENT), 'utf8').replace(/<\/script/gi, '<\\/script'),
    style: readFileSync(new URL('page.css', CLIENT), 'utf8'),
  };
  return assets;
}

export function renderPage(line: string, version: string, nonce: string): string {
  const { script, style } = clientAssets();
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>lineside · ${escapeHtml(line)}</title>
<style>
${style}</style>
</head>
<body>
<header>
  <h1>lineside · ${escapeHtml(line)}</h1>
  <span id="overall" class="pill" role="status">…</span>
  <span id="plc" class="pill">PLC …</span>
  <span id="storage" class="pill">storage …</span>
  <span id="live" class="pill" data-testid="live">○ connecting…</span>
  <span class="meta" style="color:#ccd">v${escapeHtml(version)}</span>
  <span class="who" id="who"></span>
</header>
<div id="login" hidden></div>
<div id="app" hidden>
  <nav id="nav" aria-label="views"></nav>
  <div id="flash" class="notice" role="status" hidden style="margin:.5rem 1rem 0"></div>
  <main id="view" aria-live="polite"></main>
</div>
<script nonce="${nonce}">
${script}</script>
</body>
</html>`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
