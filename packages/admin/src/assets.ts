/**
 * The one stylesheet (served from /assets/admin.css: the CSP allows no inline styles). Plain, readable,
 * and a print style that fits the client set-up sheet on one A4 page.
 */
export const ADMIN_CSS = `
:root { --fg: #1d2330; --muted: #5b6475; --line: #d5d9e0; --accent: #1f5fbf; --bg: #f6f7f9; --err: #b3261e; --ok: #1e6b35; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--accent); }
header.top { display: flex; flex-wrap: wrap; align-items: center; gap: 1rem; padding: .6rem 1.2rem; background: #fff; border-bottom: 1px solid var(--line); }
.brand { font-weight: 700; font-size: 1.15rem; text-decoration: none; color: var(--fg); }
nav ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: .9rem; }
nav a[aria-current="page"] { font-weight: 700; text-decoration: none; color: var(--fg); }
.top-right { margin-left: auto; display: flex; align-items: center; gap: 1rem; }
.who { color: var(--muted); margin-right: .5rem; }
.domain-selector { display: flex; gap: .4rem; align-items: center; }
.domain-nav { display: flex; gap: 1.2rem; align-items: center; padding: .5rem 1.2rem; background: #eef2f8; border-bottom: 1px solid var(--line); }
.domain-name { font-weight: 700; }
main { max-width: 70rem; margin: 1.5rem auto; padding: 0 1.2rem; }
section.narrow { max-width: 30rem; }
footer { max-width: 70rem; margin: 2rem auto; padding: 0 1.2rem; color: var(--muted); font-size: .9rem; }
h1 { font-size: 1.5rem; margin: .2rem 0 1rem; }
h2 { font-size: 1.2rem; margin: 1.6rem 0 .6rem; }
.field { margin: 0 0 .9rem; }
.field label, fieldset legend { display: block; font-weight: 600; margin-bottom: .2rem; }
input[type=text], input[type=password], input[type=date], input[type=search], select, textarea { width: 100%; max-width: 28rem; padding: .45rem .5rem; border: 1px solid #9aa3b2; border-radius: 4px; font: inherit; background: #fff; }
select[multiple] { min-height: 6rem; }
fieldset { border: 1px solid var(--line); border-radius: 4px; margin: 0 0 .9rem; padding: .5rem .9rem; max-width: 28rem; }
.radio { display: flex; gap: .4rem; align-items: baseline; }
.radio label { font-weight: 400; }
.hint { color: var(--muted); font-size: .9rem; margin: .2rem 0 0; }
.has-error input, .has-error textarea, .has-error select { border-color: var(--err); }
.field-error, .form-error { color: var(--err); }
.form-error { border: 1px solid var(--err); background: #fdecea; padding: .5rem .8rem; border-radius: 4px; margin-bottom: 1rem; }
.form-error p { margin: 0; }
button { font: inherit; padding: .45rem 1rem; border-radius: 4px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: var(--accent); }
button.danger { background: #fff; color: var(--err); border-color: var(--err); }
form.inline { display: inline; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #eef2f8; }
.muted { color: var(--muted); }
.tag { display: inline-block; font-size: .8rem; padding: 0 .4rem; border-radius: 3px; background: #e7e9ee; }
.tag.warn { background: #fff1cc; }
.tag.bad { background: #fdecea; color: var(--err); }
.flash { padding: .6rem .9rem; border-radius: 4px; margin-bottom: 1rem; }
.flash p { margin: 0; }
.flash-ok { background: #e6f4ea; color: var(--ok); }
.flash-error { background: #fdecea; color: var(--err); }
.flash-warn { background: #fff4d6; color: #6b4e00; border-left: 4px solid #e0a800; }
.flash-warn ul { margin: .4rem 0 0; }
.warn-text { color: #8a5a00; font-weight: 600; }
.error-text { color: var(--err); }
tr.row-error td { background: #fdecea; }
form.filters { display: flex; flex-wrap: wrap; gap: .4rem .6rem; align-items: center; margin-bottom: .8rem; }
form.filters input, form.filters select { width: auto; }
.language-menu { display: inline-flex; gap: .4rem; align-items: center; margin-left: 1rem; }
table.audit td { vertical-align: top; }
code.wrap { white-space: pre-wrap; word-break: break-all; }
.secret { font-family: ui-monospace, monospace; font-size: 1.1rem; margin-top: .4rem !important; color: var(--fg); }
.card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 1rem 1.2rem; margin-bottom: 1rem; }
.columns { display: grid; grid-template-columns: repeat(auto-fit, minmax(18rem, 1fr)); gap: 1rem; }
.pager { display: flex; gap: 1rem; margin: 1rem 0; }
code, .mono { font-family: ui-monospace, monospace; }
.sheet h1 { font-size: 1.4rem; }
.sheet table { margin-bottom: .6rem; }
.sheet .clients { display: grid; grid-template-columns: 1fr 1fr; gap: .4rem 1.2rem; font-size: .92rem; }
.sheet .clients h3 { margin: .3rem 0 .1rem; font-size: 1rem; }
.sheet .clients p { margin: 0; }
.print-note { color: var(--muted); }
@media print {
  @page { size: A4; margin: 12mm; }
  body { background: #fff; font-size: 10.5pt; line-height: 1.35; }
  header.top, .domain-nav, footer, .flash, .print-note, .no-print { display: none !important; }
  main { margin: 0; padding: 0; max-width: none; }
  .sheet table { width: 100%; }
  th, td { padding: .15rem .4rem; }
  a { color: inherit; text-decoration: none; }
  .sheet { page-break-inside: avoid; }
}
`;
